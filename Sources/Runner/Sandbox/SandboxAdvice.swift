import Foundation

/// Turns a failed bubblewrap probe into what to change on this host. Sources for the settings:
/// Ubuntu 23.10+ restricts unprivileged user namespaces through AppArmor
/// (https://ubuntu.com/blog/ubuntu-23-10-restricted-unprivileged-user-namespaces; GitHub's ubuntu-24.04 runners:
/// actions/runner-images#10015); Docker's default seccomp profile blocks `unshare`/`clone` of new namespaces and
/// its default AppArmor profile blocks the mounts bubblewrap makes (containers/bubblewrap#505); a masked /proc
/// blocks bubblewrap's new procfs (containers/bubblewrap#284).
enum SandboxAdvice {
    /// What Sparrow could read about the host.
    struct Host: Sendable, Hashable {
        /// `/proc/sys/kernel/unprivileged_userns_clone` (Debian and Ubuntu kernels), nil when absent.
        var unprivilegedUsernsClone: Int?
        /// `/proc/sys/user/max_user_namespaces`.
        var maxUserNamespaces: Int?
        /// `/proc/sys/kernel/apparmor_restrict_unprivileged_userns` (Ubuntu 23.10+), nil when absent.
        var apparmorRestrictsUserns: Int?
        /// Inside a container (`/.dockerenv`, `/run/.containerenv`, or a container cgroup).
        var inContainer: Bool
        /// Inside a Kubernetes pod (`KUBERNETES_SERVICE_HOST`).
        var inKubernetes: Bool

        static func current() -> Host {
            func number(_ path: String) -> Int? {
                (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            let cgroup = (try? String(contentsOfFile: "/proc/1/cgroup", encoding: .utf8)) ?? ""
            let fileManager = FileManager.default
            return Host(
                unprivilegedUsernsClone: number("/proc/sys/kernel/unprivileged_userns_clone"),
                maxUserNamespaces: number("/proc/sys/user/max_user_namespaces"),
                apparmorRestrictsUserns: number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
                inContainer: fileManager.fileExists(atPath: "/.dockerenv") || fileManager.fileExists(atPath: "/run/.containerenv")
                    || ["docker", "containerd", "kubepods", "libpod"].contains { cgroup.contains($0) },
                inKubernetes: ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] != nil
            )
        }
    }

    /// The message for a task that needed the sandbox: what failed, why (as far as the host shows), and the exact
    /// setting to change.
    static func explain(probeOutput: String, host: Host) -> String {
        let said = probeOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").first.map(String.init) ?? "no output"
        var fixes: [String] = []
        if host.unprivilegedUsernsClone == 0 {
            fixes.append("the kernel forbids unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1`")
        }
        if host.maxUserNamespaces == 0 {
            fixes.append("user namespaces are limited to 0: `sysctl -w user.max_user_namespaces=15000`")
        }
        if host.apparmorRestrictsUserns == 1 {
            fixes.append(
                "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10+, GitHub ubuntu-24.04 runners): run"
                    + " `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` before Sparrow, or install an"
                    + " AppArmor profile that gives /usr/bin/bwrap `userns`")
        }
        if probeOutput.contains("Can't mount proc") {
            // The container's /proc has masked paths, and the kernel refuses a new procfs in a user namespace
            // while parts of the old one are hidden ("mount too revealing"; containers/bubblewrap#505, #284).
            fixes.append(
                "the container's /proc is masked: Docker `--security-opt systempaths=unconfined`, Podman"
                    + " `--security-opt unmask=ALL`, Kubernetes `securityContext: {procMount: Unmasked}`")
        }
        if host.inKubernetes {
            fixes.append(
                "in Kubernetes the pod needs `securityContext: {seccompProfile: {type: Unconfined}, appArmorProfile:"
                    + " {type: Unconfined}}` on the container (and the node must allow user namespaces)")
        } else if host.inContainer {
            fixes.append(
                "in Docker, start the container with `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`"
                    + " (the default seccomp profile blocks creating namespaces; the default AppArmor profile blocks bwrap's mounts)")
        }
        if fixes.isEmpty {
            fixes.append("check that unprivileged user namespaces work: `bwrap --unshare-all --ro-bind / / true`")
        }
        return "sandbox: bubblewrap cannot create its namespaces here (bwrap said: \(said)); model-written code is not run."
            + " To fix: " + fixes.joined(separator: "; ") + ". Or set `sandbox: none` in the spec to run it without isolation."
    }
}
