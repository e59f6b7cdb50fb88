#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, then
#   1. a normal build (-Wall -Wextra -Werror) and every unit and integration test;
#   2. a clang build with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer
#      targets, and every test again (fuzzers included, time-bounded).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
export CTEST_OUTPUT_ON_FAILURE=1
# Debian's python3 packages (pymodbus...) live under /usr/bin/python3, whatever is first on PATH.
export DCM_PYTHON=/usr/bin/python3

echo "== build: release (gcc) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests: release =="
ctest --test-dir build -j"$jobs" --output-on-failure

echo "== build: ASan+UBSan and fuzzers (clang) =="
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDCM_SANITIZE=ON -DDCM_FUZZ=ON \
  -DDCM_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests: ASan+UBSan =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j"$jobs" --output-on-failure
