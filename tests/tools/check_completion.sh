#!/usr/bin/env bash
# check_completion.sh SEGWORKER: the bash completion `segworker completion bash` prints parses,
# completes commands and each command's own options only, and the zsh one parses (when zsh is
# installed).
set -euo pipefail
bin=$1
fail=0

script=$("$bin" completion bash)
bash -n <<<"$script" || { echo "FAIL: bash completion does not parse"; exit 1; }
eval "$script"

# complete WORDS...: COMPREPLY for the command line "segworker WORDS..." (the last is completed).
complete_words() {
  COMP_WORDS=(segworker "$@")
  COMP_CWORD=$(($# ))
  COMPREPLY=()
  _segworker
  printf '%s\n' "${COMPREPLY[@]}"
}

expect() { # expect WHAT WANT GOT
  if ! grep -qx -- "$2" <<<"$3"; then
    echo "FAIL: $1: $2 not offered (got: $(tr '\n' ' ' <<<"$3"))"
    fail=1
  fi
}

refuse() { # refuse WHAT UNWANTED GOT
  if grep -qx -- "$2" <<<"$3"; then
    echo "FAIL: $1: $2 offered"
    fail=1
  fi
}

expect "a command" run "$(complete_words ru)"
expect "run's option" --accounts "$(complete_words run --acc)"
refuse "submit's option on run" --topic "$(complete_words run --to)"
expect "submit's option" --topic "$(complete_words submit --to)"
expect "a --set key" worker.max_in_flight= "$(complete_words run --set worker.max_in)"
expect "a shell" zsh "$(complete_words completion z)"

if command -v zsh >/dev/null; then
  "$bin" completion zsh | zsh -n || { echo "FAIL: zsh completion does not parse"; fail=1; }
fi
if [ "$fail" -ne 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
