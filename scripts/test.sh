#!/usr/bin/env bash
# The test command: installs what is missing, then builds and runs every test twice — a normal
# build and an AddressSanitizer + UndefinedBehaviorSanitizer build — plus the lint gates
# (clang-format, shellcheck, generated docs up to date). The integration tests start their own
# Apache Kafka broker (KRaft, jars from Maven Central) and provider simulator on loopback.
#
#   scripts/test.sh                 everything (what CI runs)
#   SW_SKIP_ASAN=1 scripts/test.sh  skip the sanitizer pass (a quicker local loop)
#   SW_SKIP_FUZZ=1, SW_FUZZ_SECONDS=N  skip, or lengthen, the bounded fuzz run
#   SW_CTEST_ARGS="-L unit" ...     pass arguments to ctest (e.g. only the unit tests)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=$(nproc 2>/dev/null || echo 2)
read -r -a CTEST_ARGS <<<"${SW_CTEST_ARGS:-}"

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "lint: clang-format, shellcheck, generated docs"
scripts/lint.sh

run_suite() {
  local dir=$1
  shift
  step "build $dir ($*)"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSW_WERROR=ON "$@" >"$dir.cmake.log" 2>&1 ||
    { cat "$dir.cmake.log"; exit 1; }
  # The build's own exit status decides: a failed build must never go on to run the stale
  # binaries a reused build directory still holds.
  if ! cmake --build "$dir" -j "$JOBS" >"$dir.build.log" 2>&1; then
    grep -E 'error|warning' "$dir.build.log" | head -n 40 || true
    tail -n 20 "$dir.build.log"
    echo "build of $dir failed (log: $dir.build.log)" >&2
    exit 1
  fi
  step "test $dir"
  # -j: the tests that share the Kafka broker serialize on their RESOURCE_LOCK; the rest (unit
  # tests, the simulator-only and mock-cluster tests) run beside them.
  (cd "$dir" && ctest --output-on-failure --timeout 900 -j "$JOBS" "${CTEST_ARGS[@]}")
}

mkdir -p build
run_suite build
if [ -z "${SW_SKIP_ASAN:-}" ]; then
  # detect_leaks: every test frees what it made, so a leak report means a real leak.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export SW_TEST_TIMEOUT_MULT=3
  # The crash test runs 1/10 of its jobs under sanitizers (it_reliability.c).
  export SW_TEST_SCALE_DIV=10
  run_suite build-asan -DSW_SANITIZE=ON
fi
if [ -z "${SW_SKIP_FUZZ:-}" ]; then
  # A bounded libFuzzer run of every parser target from the committed seed corpus; the corpus it
  # grows stays in the build directory.
  step "fuzz (${SW_FUZZ_SECONDS:-20} s per target)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DSW_FUZZ=ON -DSW_SANITIZE=ON -DSW_WERROR=ON \
    >build-fuzz.cmake.log 2>&1 || { cat build-fuzz.cmake.log; exit 1; }
  if ! cmake --build build-fuzz -j "$JOBS" --target fuzz_job fuzz_spec fuzz_spec_load fuzz_url fuzz_config fuzz_trace fuzz_cli \
    >build-fuzz.build.log 2>&1; then
    tail -n 30 build-fuzz.build.log
    echo "build of the fuzz targets failed (log: build-fuzz.build.log)" >&2
    exit 1
  fi
  for t in fuzz_job fuzz_spec fuzz_spec_load fuzz_url fuzz_config fuzz_trace fuzz_cli; do
    mkdir -p "build-fuzz/corpus/$t"
    if ! (cd build-fuzz && "./tests/$t" -max_total_time="${SW_FUZZ_SECONDS:-20}" \
      -rss_limit_mb=2048 -print_final_stats=0 "corpus/$t" "../tests/fuzz/corpus/$t" \
      >"$t.log" 2>&1); then
      tail -n 40 "build-fuzz/$t.log"
      echo "fuzz: $t found a failure; the input is saved in build-fuzz/" >&2
      exit 1
    fi
    echo "fuzz: $t: $(grep -Eo 'Done [0-9]+ runs' "build-fuzz/$t.log" | tail -n 1)"
  done
fi
step "all tests passed"
