// swift-tools-version: 6.0
// Sparrow: a CI/CD batch tool that runs a resident Mixture-of-Experts coding model over review, patch and
// test-writing tasks. Module layout and dependency direction: ../shared/DESIGN.md §2 (mirrored in README.md).
import PackageDescription

/// Upcoming features on for every Swift target, so a dependency cannot leak through a module boundary.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "sparrow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sparrow", targets: ["sparrow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // MARK: System libraries (Debian -dev packages, installed by Scripts/setup)
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CLibGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // MARK: Hot loops in C (SIMD chosen at run time)
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-ffp-contract=off"])]),

        // MARK: Leaves: no other Sparrow module
        .target(name: "Hashing", swiftSettings: strictSettings),
        .target(name: "Generation", swiftSettings: strictSettings),
        .target(name: "GGUF", swiftSettings: strictSettings),
        .target(name: "Tokenizers", swiftSettings: strictSettings),
        .target(name: "Annotations", dependencies: ["Hashing"], swiftSettings: strictSettings),

        // MARK: Inner layers
        .target(name: "Jobs", dependencies: ["CYAML"], swiftSettings: strictSettings),
        .target(name: "Git", dependencies: ["CLibGit2"], swiftSettings: strictSettings),
        .target(name: "Kernels", dependencies: ["GGUF", "CKernels", "COpenBLAS"], swiftSettings: strictSettings),
        .target(
            name: "Engine",
            dependencies: ["Generation", "GGUF", "Tokenizers", "Kernels", "Hashing"],
            swiftSettings: strictSettings
        ),
        .target(name: "Remote", dependencies: ["Generation"], swiftSettings: strictSettings),
        .target(
            name: "Runner",
            dependencies: ["Jobs", "Generation", "Engine", "Kernels", "Remote", "Git", "Annotations", "GGUF", "Hashing"],
            swiftSettings: strictSettings
        ),

        // MARK: The command-line tool (thin)
        .executableTarget(
            name: "sparrow",
            dependencies: [
                "Runner", "Jobs", "GGUF", "Engine", "Kernels", "Tokenizers", "Generation", "Remote",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["GGUF"], path: "Sources/TestSupport", swiftSettings: strictSettings),
        .testTarget(name: "GenerationTests", dependencies: ["Generation"], swiftSettings: strictSettings),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Engine", "GGUF", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "AnnotationsTests", dependencies: ["Annotations", "Hashing", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "GitTests", dependencies: ["Git", "TestSupport"], exclude: ["README.md"], swiftSettings: strictSettings),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Git", "Jobs", "Annotations", "Generation", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(
            name: "EngineTests", dependencies: ["Engine", "GGUF", "Kernels", "Tokenizers", "Generation", "TestSupport"],
            exclude: ["Fixtures", "Constraints/README.md"], swiftSettings: strictSettings
        ),
        .testTarget(name: "RemoteTests", dependencies: ["Remote", "Generation", "TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "SparrowCLITests", dependencies: ["Runner", "Jobs", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "GGUF"], exclude: ["Fixtures"], swiftSettings: strictSettings),
        // Runs third-party validators (actionlint, zizmor, check-jsonschema, hadolint, kubernetes-validate) from the
        // Scripts/setup venv over Pipelines/ and Containers/.
        .testTarget(name: "PipelinesTests", dependencies: ["TestSupport"], exclude: ["Fixtures"], swiftSettings: strictSettings),
    ]
)
