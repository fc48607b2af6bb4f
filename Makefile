# Sparrow: the two commands a newcomer needs are `make demo` (the main job on the default model) and
# `make test` (the test suite). Both install what they need through Scripts/setup first.
SHELL := /bin/bash
export SPARROW_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sparrow

.PHONY: setup build release test demo integration clean image bench-kernels bench-levels bench-allocations bench-git bench-tokenizer bench-constraints bench bench-models fixtures-kernels fixtures-engine eval check-qwen3next-shapes

setup:
	Scripts/setup

build: setup
	swift build

release: setup
	swift build -c release

test: setup
	Scripts/fetch-models
	Scripts/fixtures/qwen-vocab
	swift build --build-tests
	Scripts/swift-test-watchdog

demo: release
	Scripts/demo

integration: setup
	Scripts/reference-tools
	Scripts/integration/tokenizer-llama-vectors
	Scripts/fuzz/run-gguf-fuzz 10000
	Scripts/integration/remote-llama-server
	Benchmarks/git/run --configuration release
	swift build -c release
	Scripts/fetch-models
	Benchmarks/allocations/run --no-build --models smollm2
	Scripts/integration/smollm2-constraints
	Scripts/integration/smollm2-patch
	$(MAKE) check-qwen3next-shapes
	$(MAKE) eval

bench-kernels: release
	.build/release/sparrow bench --kernels

# The same files at the avx2 and avx512 kernel levels, back to back (needs `make bench-models`).
bench-levels: release
	Scripts/fetch-models
	uptime
	for level in avx2 avx512; do \
	  SPARROW_KERNEL_LEVEL=$$level .build/release/sparrow bench --kernels || exit 1; \
	  for model in $${SPARROW_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/sparrow}/bench-models/qwen3moe-8l.Q4_K_M.gguf \
	      $${SPARROW_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/sparrow}/bench-models/qwen3next-8l.Q4_K_M.gguf \
	      $${SPARROW_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/sparrow}/models/SmolLM2-135M-Instruct.Q4_1.gguf; do \
	    SPARROW_KERNEL_LEVEL=$$level .build/release/sparrow bench $$model --repeat 3 --gen-tokens 32 || exit 1; \
	  done; \
	done
	uptime

# Heap allocations per decoded token after warm-up (SmolLM2 and the bench files); fails above the stated limit.
bench-allocations: release
	Benchmarks/allocations/run --no-build

bench-git: setup
	Benchmarks/git/run --configuration release

bench-tokenizer: setup
	Benchmarks/tokenizer/run

bench-constraints: setup
	Scripts/fetch-models
	Scripts/fixtures/qwen-vocab
	swift test -c release -Xswiftc -enable-testing --filter 'EngineTests.(MaskCostBenchmarkTests|ConstrainedSamplingPropertyTests)'

fixtures-engine:
	Scripts/reference-tools --torch && eval "$$(Scripts/reference-tools --print-env)" && nice "$$SPARROW_REF_PYTHON" Scripts/make-fixtures.py Tests/EngineTests/Fixtures && nice "$$SPARROW_REF_PYTHON" Scripts/fixtures/qwen3next-fixtures.py Tests/EngineTests/Fixtures

# Sparrow vs llama.cpp and transformers on a random qwen3next with Qwen3-Coder-Next's per-layer shapes.
check-qwen3next-shapes: release
	Scripts/reference-tools --torch && eval "$$(Scripts/reference-tools --print-env)" && nice "$$SPARROW_REF_PYTHON" Scripts/fixtures/qwen3next-shapes-check.py

# The evaluation set through Sparrow, Aider and PR-Agent on the same models (Evaluation/README.md).
eval: release
	Evaluation/setup-peers
	Scripts/reference-tools
	Evaluation/make-moe-model
	nice Evaluation/run

# Sparrow beside llama-bench on the random-weight bench models and SmolLM2: one table (Benchmarks/README.md).
bench: setup
	Benchmarks/run

bench-models: setup
	Scripts/reference-tools
	Scripts/bench-models/make-random-gguf qwen3moe
	Scripts/bench-models/make-random-gguf qwen3next

fixtures-kernels:
	Scripts/reference-tools
	"$(SPARROW_CACHE)/reference/venv/bin/python" Scripts/fixtures/kernels-fixtures.py Tests/KernelsTests/Fixtures
	"$(SPARROW_CACHE)/reference/venv/bin/python" Scripts/fixtures/kernels-llama-fixtures.py Tests/KernelsTests/Fixtures

image: setup
	Scripts/image/build

clean:
	rm -rf .build
