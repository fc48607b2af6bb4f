# Sparrow: the two commands a newcomer needs are `make demo` (the main job on the default model) and
# `make test` (the test suite). Both install what they need through Scripts/setup first.
SHELL := /bin/bash
export SPARROW_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/sparrow

.PHONY: setup build release test demo integration clean image bench-kernels bench-git bench-tokenizer bench-constraints fixtures-kernels fixtures-engine

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
	swift test

demo: release
	Scripts/demo

integration: setup
	Scripts/reference-tools
	Scripts/integration/tokenizer-llama-vectors
	Scripts/fuzz/run-gguf-fuzz 10000
	Scripts/integration/remote-llama-server
	Benchmarks/git/run --configuration release

bench-kernels: release
	.build/release/sparrow bench --kernels

bench-git: setup
	Benchmarks/git/run --configuration release

bench-tokenizer: setup
	Benchmarks/tokenizer/run

bench-constraints: setup
	Scripts/fixtures/qwen-vocab
	swift test -c release -Xswiftc -enable-testing --filter 'EngineTests.(MaskCostBenchmarkTests|ConstrainedSamplingPropertyTests)'

fixtures-engine:
	Scripts/reference-tools --torch && eval "$$(Scripts/reference-tools --print-env)" && nice "$$SPARROW_REF_PYTHON" Scripts/make-fixtures.py Tests/EngineTests/Fixtures

fixtures-kernels:
	Scripts/reference-tools
	"$(SPARROW_CACHE)/reference/venv/bin/python" Scripts/fixtures/kernels-fixtures.py Tests/KernelsTests/Fixtures
	"$(SPARROW_CACHE)/reference/venv/bin/python" Scripts/fixtures/kernels-llama-fixtures.py Tests/KernelsTests/Fixtures

image: setup
	Scripts/image/build

clean:
	rm -rf .build
