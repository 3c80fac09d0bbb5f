#!/usr/bin/env bash
# Lint gates: clang-format on all C sources, shellcheck on all scripts, and the generated
# configuration reference (docs/CONFIGURATION.md) matching `segworker --dump-config=reference`; for deploy/:
# yamllint on every YAML file, hadolint on the Dockerfile, kubeconform on the Kubernetes manifests
# (offline schemas), and every JSON file parsing. The tools come from scripts/install-deps.sh
# (build/.tools); a missing tool is a failure, never a skip.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS=${SW_TOOLS_DIR:-$ROOT/build/.tools}
K8S_SCHEMA_VERSION=1.33.0
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

mapfile -t yamls < <(git ls-files '*.yaml' '*.yml')
if ! yamllint -s -c scripts/yamllint.yaml "${yamls[@]}"; then
  echo "lint: yamllint failed" >&2
  fail=1
fi

if ! "$TOOLS/bin/hadolint" deploy/Dockerfile; then
  echo "lint: hadolint failed on deploy/Dockerfile" >&2
  fail=1
fi

# KEDA's ScaledObject is a CRD with no schema among Kubernetes' own: it is checked against
# deploy/k8s/schemas/ (the fields segworker uses), and tests/deploy/deploy_wiring.py checks that it
# targets the Deployment, group and topic that the config names.
if ! "$TOOLS/bin/kubeconform" -strict -summary -kubernetes-version "$K8S_SCHEMA_VERSION" \
  -schema-location "$TOOLS/k8s-schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  -schema-location "deploy/k8s/schemas/{{ .ResourceKind }}-{{ .Group }}-{{ .ResourceAPIVersion }}.json" \
  deploy/k8s/*.yaml; then
  echo "lint: kubeconform failed on deploy/k8s" >&2
  fail=1
fi

mapfile -t jsons < <(git ls-files 'deploy/*.json' 'deploy/**/*.json')
for j in "${jsons[@]}"; do
  if ! python3 -m json.tool "$j" >/dev/null; then
    echo "lint: $j is not valid JSON" >&2
    fail=1
  fi
done

exit "$fail"
