import Annotations
import Foundation
import Generation
import Git
import Jobs
@testable import Runner
import TestSupport
import Testing

/// Model-written code that misbehaves, run as `verify` of a patch task under bubblewrap with small limits (set by
/// the task's `sandbox_limits`): each case must be contained and end as a failed attempt. Every command has a wall clock (the watchdog).
@Suite(.serialized) struct SandboxTests {
    static let limits = SandboxLimits(
        processes: 64, fileSizeBytes: 10 << 20, memoryBytes: 1 << 30, cpuSeconds: 5, wallSeconds: 20, tmpfsBytes: 16 << 20
    )
    static let secret = "sparrow-secret-\(UUID().uuidString)"

    /// Runs a one-attempt patch task whose model rewrites `evil.sh` with `script`; verify is `sh evil.sh`.
    static func attempt(_ script: String, extraFiles: [GitRepositoryEntry] = []) async throws -> PatchTaskRunner.Outcome {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("evil.sh", "exit 0\n")] + extraFiles, message: "base")
        let specPath = try fixture.spec("""
            tasks:
              - id: evil
                kind: patch
                at: main
                instruction: "Improve evil.sh."
                files: [evil.sh]
                verify: "sh evil.sh"
                attempts: 1
                sandbox_limits: {processes: 64, file_size: 10MiB, memory: 1GiB, cpu_time: 5s, wall_clock: 20s, tmpfs: 16MiB}

            """)
        let loaded = try SpecLoader.load(path: specPath)
        let task = try #require(loaded.spec.tasks.first)
        guard case let .patch(patch) = task.kind else { throw SandboxFailure("not a patch task") }
        let repository = try Repository(at: fixture.repository.url)
        var environment = ProcessInfo.processInfo.environment
        environment["SPARROW_TEST_SECRET"] = secret
        for tool in ["bwrap", "prlimit", "python3"] where SandboxInvocation.locate(tool, path: environment["PATH"]) == nil {
            Issue.record("\(tool) is missing: run Scripts/setup (it installs the Debian packages bubblewrap, util-linux and python3)")
        }
        let sandbox = try await CommandSandbox.make(mode: .bwrap, limits: limits, environment: environment)
        let runner = PatchTaskRunner(
            task: task, patch: patch, repository: repository, at: try repository.resolve("main"),
            generator: ScriptedGenerator { _ in PatchTaskTests.edit([("evil.sh", "exit 0\n", script)]) }, gate: RequestGate(permits: 1),
            sandbox: sandbox, contextLength: 4096
        )
        let outcome = try await runner.run()
        // The spec's sandbox_limits are what verify ran under, and the journal says so.
        for attempt in outcome.attempts where attempt.verify != nil {
            #expect(attempt.sandboxLimits == limits)
        }
        return outcome
    }

    static func verify(_ outcome: PatchTaskRunner.Outcome) -> (summary: String, output: String) {
        (outcome.attempts.first?.verify ?? "", outcome.attempts.first?.output ?? "")
    }

    @Test func aNetworkConnectionFails() async throws {
        // A listener on the host's loopback: reachable from here, not from the sandbox's own network namespace.
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0)
        #expect(listen(server, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let probe = "import socket\nsocket.create_connection(('127.0.0.1', \(port)), timeout=3).close()\nprint('connected')\n"
        let outside = try runProcess(URL(fileURLWithPath: "/usr/bin/python3"), arguments: ["-c", probe])
        #expect(outside.standardOutput.contains("connected"), "the listener is reachable outside the sandbox")

        let outcome = try await Self.attempt("python3 -c \"\(probe.replacingOccurrences(of: "\n", with: "; ").replacingOccurrences(of: "'", with: "'"))\"\n")
        #expect(outcome.status == .failed)
        #expect(outcome.attempts.first?.outcome == "verify failed")
        #expect(!Self.verify(outcome).output.contains("connected"))
        #expect(Self.verify(outcome).output.contains("Error"))
    }

    @Test func writingOutsideTheWorktreeFails() async throws {
        let target = "/var/tmp/sparrow-escape-\(UUID().uuidString)"
        let outcome = try await Self.attempt("echo pwned > \(target) || exit 1\necho pwned > $HOME/../../etc/sparrow-pwned || exit 1\n")
        #expect(outcome.status == .failed)
        #expect(Self.verify(outcome).output.contains("Read-only file system"))
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(!FileManager.default.fileExists(atPath: "/etc/sparrow-pwned"))
    }

    @Test func theParentsSecretIsNotVisible() async throws {
        let outcome = try await Self.attempt("""
            printenv SPARROW_TEST_SECRET && exit 0
            cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep SPARROW_TEST_SECRET && exit 0
            echo "no secret found"; exit 1

            """)
        #expect(outcome.status == .failed)
        #expect(Self.verify(outcome).output.contains("no secret found"))
        #expect(!Self.verify(outcome).output.contains(Self.secret))
    }

    @Test func aForkBombHitsTheProcessLimit() async throws {
        let outcome = try await Self.attempt("bomb() { bomb | bomb & }; bomb\nsleep 2\nexit 1\n")
        #expect(outcome.status == .failed)
        let (summary, output) = Self.verify(outcome)
        #expect(!summary.contains("timed out"), "contained by the process limit, not the wall clock: \(summary)")
        #expect(output.contains("fork") || output.contains("Resource temporarily unavailable"), "\(output.suffix(300))")
    }

    @Test func anEndlessLoopIsKilled() async throws {
        let outcome = try await Self.attempt("while :; do :; done\n")
        #expect(outcome.status == .failed)
        let summary = Self.verify(outcome).summary
        #expect(summary.contains("signal") || summary.contains("timed out"), "\(summary)")
    }

    @Test func writingTenGigabytesIsStoppedByTheFileSizeLimit() async throws {
        let outcome = try await Self.attempt("dd if=/dev/zero of=big bs=1M count=10240 2>&1\n")
        #expect(outcome.status == .failed)
        #expect(Self.verify(outcome).summary.contains("signal 25"), "SIGXFSZ: \(Self.verify(outcome))")
    }

    @Test func fillingTmpIsStoppedByTheTmpfsSize() async throws {
        let outcome = try await Self.attempt("for i in 1 2 3; do dd if=/dev/zero of=/tmp/big$i bs=1M count=9 2>&1 || exit 1; done\n")
        #expect(outcome.status == .failed)
        #expect(Self.verify(outcome).output.contains("No space left"))
    }

    @Test func anAllocationBeyondTheMemoryLimitFails() async throws {
        let outcome = try await Self.attempt("python3 -c \"b = bytearray(2 << 30); print('allocated')\"\n")
        #expect(outcome.status == .failed)
        #expect(Self.verify(outcome).output.contains("MemoryError"))
        #expect(!Self.verify(outcome).output.contains("allocated"))
    }

    @Test func theSandboxArgumentsHideHomeAndDropToNobodyAsRoot() {
        let invocation = SandboxInvocation(
            bwrap: "/usr/bin/bwrap", prlimit: "/usr/bin/prlimit", setpriv: "/usr/bin/setpriv",
            worktree: URL(fileURLWithPath: "/tmp/wt"), limits: Self.limits, hidden: ["/root", "/tmp/wt-parent", "/tmp"]
        )
        let (executable, arguments) = invocation.arguments(command: "true")
        #expect(executable == "/usr/bin/setpriv")
        #expect(arguments.prefix(3) == ["--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(arguments.contains("--unshare-all"))
        #expect(arguments.contains("--nproc=64:64"))
        #expect(arguments.contains("--fsize=\(10 << 20):\(10 << 20)"))
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("--tmpfs /root"))
        #expect(joined.contains("--bind /tmp/wt /tmp/wt --chdir /tmp/wt"))
        let environment = SandboxInvocation.environment(from: ["PATH": "/bin", "GITHUB_TOKEN": "x", "SPARROW_TEST_SECRET": "y"])
        #expect(environment["GITHUB_TOKEN"] == nil)
        #expect(environment["SPARROW_TEST_SECRET"] == nil)
        #expect(environment["PATH"] == "/bin")
    }

    @Test func adviceNamesTheSettingToChange() {
        let ubuntu = SandboxAdvice.Host(unprivilegedUsernsClone: nil, maxUserNamespaces: 63000, apparmorRestrictsUserns: 1, inContainer: false, inKubernetes: false)
        #expect(SandboxAdvice.explain(probeOutput: "bwrap: setting up uid map: Permission denied", host: ubuntu).contains("kernel.apparmor_restrict_unprivileged_userns=0"))
        let docker = SandboxAdvice.Host(unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictsUserns: nil, inContainer: true, inKubernetes: false)
        #expect(SandboxAdvice.explain(probeOutput: "bwrap: No permissions to create new namespace", host: docker).contains("seccomp=unconfined"))
        #expect(SandboxAdvice.explain(probeOutput: "bwrap: Can't mount proc on /newroot/proc: Operation not permitted", host: docker).contains("systempaths=unconfined"))
        let debian = SandboxAdvice.Host(unprivilegedUsernsClone: 0, maxUserNamespaces: 63000, apparmorRestrictsUserns: nil, inContainer: false, inKubernetes: false)
        #expect(SandboxAdvice.explain(probeOutput: "", host: debian).contains("kernel.unprivileged_userns_clone=1"))
    }
}

/// The wall clock and the process-group kill, with and without bubblewrap: nothing the command started survives.
@Suite struct ProcessGroupTests {
    /// Processes whose command line holds `marker`.
    static func survivors(_ marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
            return line.contains(marker) ? pid : nil
        }
    }

    @Test(arguments: [SandboxMode.bwrap, SandboxMode.none])
    func theWallClockKillsTheWholeGroup(mode: SandboxMode) async throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-group")
        defer { folder.remove() }
        let seconds = 3000 + Int.random(in: 1...999)
        let sandbox = try await CommandSandbox.make(
            mode: mode, limits: SandboxLimits(wallSeconds: 2), environment: ProcessInfo.processInfo.environment
        )
        let result = try await sandbox.run("sleep \(seconds) & sleep \(seconds); echo never", in: folder.url)
        #expect(result.timedOut)
        #expect(!result.succeeded)
        #expect(!result.output.contains("never"))
        #expect(Self.survivors("sleep \(seconds)").isEmpty)
    }

    @Test func outputIsTrimmedToItsStartAndEnd() async throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-group")
        defer { folder.remove() }
        let sandbox = try await CommandSandbox.make(
            mode: .none, limits: SandboxLimits(wallSeconds: 30, outputBytes: 1000), environment: ProcessInfo.processInfo.environment
        )
        let result = try await sandbox.run("echo first; seq 1 100000; echo last", in: folder.url)
        #expect(result.succeeded)
        #expect(result.output.hasPrefix("first\n"))
        #expect(result.output.hasSuffix("last\n"))
        #expect(result.elidedBytes > 500_000)
        #expect(result.output.utf8.count < 1200)
    }
}

/// Without a working sandbox nothing model-written runs; with `sandbox: none` it runs, and every run warns.
@Suite struct SandboxModeTests {
    @Test func aBubblewrapThatCannotStartIsReportedWithWhatToChange() async throws {
        do {
            _ = try await CommandSandbox.make(mode: .bwrap, limits: SandboxLimits(tmpfsBytes: 0), environment: ProcessInfo.processInfo.environment)
            Issue.record("expected the probe to fail")
        } catch {
            #expect(error.description.contains("model-written code is not run"))
            #expect(error.description.contains("bwrap said: bwrap: --size"))
            #expect(error.description.contains("sandbox: none"))
        }
    }

    @Test func sandboxNoneRunsUnisolatedAndWarnsOnEveryRun() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("calc.py", PatchTaskTests.buggy), .file("check.py", PatchTaskTests.check)], message: "base")
        let spec = try fixture.spec("""
            sandbox: none
            tasks:
              - {id: fix-add, kind: patch, at: main, instruction: "Make add return the sum.", files: [calc.py], verify: "echo $SPARROW_SANDBOX-$HOME; python3 check.py", attempts: 1}

            """)
        let generator = ScriptedGenerator { _ in PatchTaskTests.edit([("calc.py", "return a - b", "return a + b")]) }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": "/nonexistent-home"]
        for out in ["first", "second"] {
            let reporter = RecordingReporter()
            _ = try await fixture.run(fixture.options(spec, out: out, environment: environment), generator: generator, reporter: reporter)
            #expect(reporter.messages.contains { $0.contains("sandbox: none") }, "run \(out) warns")
            let journal = try #require(fixture.output(out, "results.jsonl"))
            let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
            #expect(entry.status == .ok, "\(entry.detail)")
            #expect(entry.attempts?.first?.output?.contains("-/nonexistent-home") == true, "unisolated: the parent's environment")
        }
    }
}

/// Corner cases of handing the worktree to the sandbox and of collecting output.
@Suite struct SandboxCornerTests {
    @Test func aDaemonThatLeftTheGroupDoesNotHangTheRun() async throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-daemon")
        defer { folder.remove() }
        // The daemon holds the output pipe far longer than the grace period; it ends by itself within ten minutes
        // even if this test stops early (and it inherits no descriptor of the test process). Ten minutes, not one:
        // in the full suite on 2 cores other tests can keep Swift's cooperative threads busy for over a minute, which
        // delays this run's polling (measured: 82 s once), and the check below is that the run returned while the
        // daemon still ran, not how fast.
        let seconds = "600.\(Int.random(in: 100...999))"
        let sandbox = try await CommandSandbox.make(mode: .none, limits: SandboxLimits(wallSeconds: 300), environment: ProcessInfo.processInfo.environment)
        // The shell waits until the daemon has left the group (it writes its pid after setsid): otherwise, on a
        // loaded machine, the shell could exit first and the group kill would catch the daemon before setsid.
        let result = try await sandbox.runSetup(
            "setsid sh -c 'echo $$ > daemon.pid; exec sleep \(seconds)' & while [ ! -s daemon.pid ]; do sleep 0.05; done; echo started",
            in: folder.url)
        #expect(result.succeeded)
        #expect(result.output.contains("started"))
        let escaped = ProcessGroupTests.survivors("sleep \(seconds)")
        #expect(!escaped.isEmpty, "the daemon left the group and still runs")
        for pid in escaped { kill(pid, SIGKILL) }  // ours to end: it is outside any group Sparrow kills
    }

    @Test func theChildInheritsNoDescriptorOfSparrow() async throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-fds")
        defer { folder.remove() }
        let held = open("/etc/hostname", O_RDONLY)  // not close-on-exec: what a careless library would leave open
        defer { close(held) }
        for mode in [SandboxMode.none, .bwrap] {
            let sandbox = try await CommandSandbox.make(mode: mode, limits: SandboxLimits(wallSeconds: 30), environment: ProcessInfo.processInfo.environment)
            let result = try await sandbox.run("ls /proc/self/fd", in: folder.url)
            let descriptors = result.output.split(separator: "\n").compactMap { Int($0) }.filter { $0 > 3 }
            #expect(result.succeeded)
            #expect(!descriptors.contains(Int(held)), "\(mode): \(result.output)")
        }
    }

    @Test func symlinksLeftInTheWorktreeAreNotFollowedWhenHandingItOver() async throws {
        guard geteuid() == 0 else { return #expect(geteuid() != 0, "only root hands the worktree over") }
        let folder = try TemporaryDirectory(prefix: "sparrow-handover")
        defer { folder.remove() }
        let outside = try TemporaryDirectory(prefix: "sparrow-outside")
        defer { outside.remove() }
        let victim = try outside.write("keep me root's\n", to: "victim.txt")
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("link").path, withDestinationPath: outside.url.path)
        let sandbox = try await CommandSandbox.make(mode: .bwrap, limits: SandboxLimits(wallSeconds: 30), environment: ProcessInfo.processInfo.environment)
        let result = try await sandbox.run("true", in: folder.url)
        #expect(result.succeeded)
        var info = stat()
        #expect(lstat(victim.path, &info) == 0)
        #expect(info.st_uid == 0, "the file behind the symlink kept its owner")
        #expect(lstat(folder.url.path, &info) == 0)
        #expect(info.st_uid == uid_t(SandboxInvocation.unprivilegedID))
    }
}
