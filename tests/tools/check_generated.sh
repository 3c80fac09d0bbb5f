#!/usr/bin/env bash
# check_generated.sh FILE CMD...: FILE must equal CMD's output (a generated file kept in the repo).
set -euo pipefail
file=$1
shift
if ! diff -u "$file" <("$@"); then
  echo "FAIL: $file is stale; regenerate it with: $* > $file" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
