#!/usr/bin/env bash
# mypy cannot follow setuptools' editable-install import hook for the package-dir
# mapping (pumpdx.kb -> kb/, ...), so check a symlinked copy of the installed layout.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/pumpdx"
for f in pumpdx/*; do ln -s "$PWD/$f" "$tree/pumpdx/$(basename "$f")"; done
ln -s "$PWD/kb" "$tree/pumpdx/kb"
ln -s "$PWD/engine" "$tree/pumpdx/engine"
ln -s "$PWD/viz" "$tree/pumpdx/viz"
ln -s "$PWD/service" "$tree/pumpdx/service"
ln -s "$PWD/decisionlog" "$tree/pumpdx/decisionlog"
cd "$tree" && "$OLDPWD/.venv/bin/mypy" --config-file "$OLDPWD/pyproject.toml" -p pumpdx
