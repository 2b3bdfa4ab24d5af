# Thin wrapper over CMake: the two commands of the README (make demo, make test) plus bench.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan fuzz demo bench clean format generate docs

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The suite, then (unless DETLUA_ASAN_IN_TEST=0) the same suite under the sanitizers.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@if [ "$${DETLUA_ASAN_IN_TEST:-1}" != 0 ]; then $(MAKE) --no-print-directory test-asan; fi

# The whole suite again, built with AddressSanitizer + UndefinedBehaviorSanitizer, with
# LeakSanitizer on; suppressions (third-party libraries only) in tests/lsan.supp.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDETLUA_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && $(SAN_ENV) ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang): each runs FUZZ_SECONDS from tests/fuzz/corpus; prints executions.
FUZZ_SECONDS ?= 60
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh build-fuzz

demo: build
	@$(BUILD)/detlua run --local scripts/playbooks/investigate-finding.lua

bench: build
	@bash scripts/bench.sh $(BUILD)

# Regenerate bindings/*_ops.c from the service models ($$DT_SHARED/models or ../shared/models).
generate:
	@bash scripts/check-generated.sh --write

# Regenerate docs/api (reference) and docs/types (LuaLS stubs) from the model tables in the binary.
docs: build
	@$(BUILD)/detlua scripts/gen-docs.lua --out docs/api --types docs/types

format:
# (generated bindings/*_ops.c are left alone: they must stay byte-identical to the generator's output)
	@clang-format -i runtime/*.c runtime/*.h $(filter-out %_ops.c,$(wildcard bindings/*.c)) bindings/*.h runtime/emulator/*.c tests/c/*.c tests/c/*.h 2>/dev/null || true

clean:
	rm -rf $(BUILD) build-asan build-fuzz
