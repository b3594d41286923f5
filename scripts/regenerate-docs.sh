#!/usr/bin/env bash
# Regenerate every generated file after the knowledge base changes: the JSON Schemas of
# the KB file formats, docs/coverage.md and the example reasoning graph of the README.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
$bin/pumpdx kb schema --write
$bin/pumpdx kb coverage --markdown -o docs/coverage.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$bin/pumpdx assess kb/cases/maino_fentanyl_overinfusion.yaml --out "$tmp" --graph-format png >/dev/null
cp "$tmp/reasoning.svg" docs/img/reasoning-example.svg
cp "$tmp/reasoning.png" docs/img/reasoning-example.png
echo "regenerated kb/schema/*.json, docs/coverage.md, docs/img/reasoning-example.{svg,png}"
