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
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.cmake.log" 2>&1 ||
    { cat "$dir.cmake.log"; exit 1; }
  cmake --build "$dir" -j "$JOBS" 2>&1 | grep -Ev '^\[ *[0-9]+%\]|^(Consolidate|Scanning)' || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
  step "test $dir"
  (cd "$dir" && ctest --output-on-failure --timeout 900 "${CTEST_ARGS[@]}")
}

mkdir -p build
run_suite build
if [ -z "${SW_SKIP_ASAN:-}" ]; then
  # detect_leaks: every test frees what it made, so a leak report means a real leak.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export SW_TEST_TIMEOUT_MULT=3
  run_suite build-asan -DSW_SANITIZE=ON
fi
if [ -z "${SW_SKIP_FUZZ:-}" ]; then
  # A bounded libFuzzer run of every parser target from the committed seed corpus; the corpus it
  # grows stays in the build directory.
  step "fuzz (${SW_FUZZ_SECONDS:-20} s per target)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DSW_FUZZ=ON -DSW_SANITIZE=ON \
    >build-fuzz.cmake.log 2>&1 || { cat build-fuzz.cmake.log; exit 1; }
  cmake --build build-fuzz -j "$JOBS" --target fuzz_job fuzz_spec fuzz_url fuzz_config fuzz_trace >/dev/null
  for t in fuzz_job fuzz_spec fuzz_url fuzz_config fuzz_trace; do
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
