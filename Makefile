# Entry points for users: `make demo` and `make test`. Both install missing Debian packages first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test demo bench fuzz asan tsan clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD_DIR)

bench: build
	bash scripts/bench.sh $(BUILD_DIR)

# AddressSanitizer + UndefinedBehaviorSanitizer build and test run, in its own build directory.
asan:
	$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS="-DCLOISTER_SANITIZE=ON -DCLOISTER_BUILD_BENCH=OFF"

# ThreadSanitizer build and test run: concurrent policy evaluation and its shared tables, the
# verity hasher's workers, the attestation service.
tsan:
	$(MAKE) test BUILD_DIR=build-tsan BUILD_TYPE=RelWithDebInfo CMAKE_FLAGS="-DCLOISTER_TSAN=ON -DCLOISTER_BUILD_BENCH=OFF"

# libFuzzer binaries (clang) in build-fuzz/fuzz/.
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCLOISTER_FUZZ=ON -DCLOISTER_BUILD_TESTS=OFF -DCLOISTER_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
