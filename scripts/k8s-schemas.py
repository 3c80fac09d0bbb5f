#!/usr/bin/env python3
"""Lay out the Kubernetes JSON schemas that the PyPI package kubernetes-validate ships the way
kubeconform reads them from disk, so `kubeconform -schema-location` works with no network.

kubernetes-validate's schemas carry `$id: https://kubernetes.io/api/...` and refer to
`/api/_definitions.json`, which its own loader maps; kubeconform compiles each file alone and
would try to fetch that URL. Here every `$id` is dropped and the reference made relative to the
file (`_definitions.json#/...`), which kubeconform's file loader resolves next to it.

usage: k8s-schemas.py VENV K8S_VERSION OUT_DIR   (writes OUT_DIR/vK8S_VERSION-standalone-strict)
SPDX-License-Identifier: Apache-2.0
"""
import glob
import json
import os
import sys


def fix(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json"):
            node["$ref"] = ref[len("/api/"):]
        for v in node.values():
            fix(v)
    elif isinstance(node, list):
        for v in node:
            fix(v)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    venv, version, out = sys.argv[1:]
    found = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "kubernetes_validate",
                                   "kubernetes-json-schema", f"v{version}-local-strict"))
    if not found:
        sys.exit(f"k8s-schemas.py: no schemas for Kubernetes {version} in {venv}")
    dst = os.path.join(out, f"v{version}-standalone-strict")
    os.makedirs(dst, exist_ok=True)
    n = 0
    for path in glob.glob(os.path.join(found[0], "*.json")):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        fix(schema)
        with open(os.path.join(dst, os.path.basename(path)), "w", encoding="utf-8") as f:
            json.dump(schema, f)
        n += 1
    print(f"k8s-schemas.py: {n} schemas in {dst}")


if __name__ == "__main__":
    main()
