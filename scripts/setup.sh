#!/usr/bin/env bash
# Set up everything PumpDx needs on a fresh machine (Python 3.11 with pip; root or
# sudo for system packages). Idempotent: installs only what is missing.
#   scripts/setup.sh          runtime: uv, the project environment, Graphviz `dot`
#   scripts/setup.sh --test   also Chromium and chromium-driver (browser tests), poppler-utils,
#                             PostgreSQL (the decision-log tests start their own server)
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { say "no apt-get: install $* by hand"; return 1; }
  if [[ $apt_updated -eq 0 ]]; then as_root apt-get update -qq >/dev/null; apt_updated=1; fi
  say "installing $* (Debian packages)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# uv verifies the registry with its own certificate list unless told otherwise; use the
# system's bundle (which includes any local proxy authority) when none is set.
if [[ -z "${SSL_CERT_FILE:-}" && -f /etc/ssl/certs/ca-certificates.crt ]]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! command -v uv >/dev/null 2>&1 && ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
  say "installing uv"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "uv>=0.13"
fi
UV=$(command -v uv || echo "$PYTHON -m uv")

if ! command -v dot >/dev/null 2>&1; then
  apt_install graphviz || say "Graphviz 'dot' is missing: DOT files only, no SVG/PNG/PDF"
fi
if [[ $want_test -eq 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium || say "Chromium is missing: the browser test will be skipped"
fi
if [[ $want_test -eq 1 ]] && ! command -v chromedriver >/dev/null 2>&1; then
  apt_install chromium-driver || say "chromedriver is missing: the consultation-page test will be skipped"
fi
if [[ $want_test -eq 1 ]] && ! command -v pdftoppm >/dev/null 2>&1; then
  apt_install poppler-utils || say "poppler-utils is missing: the printed-report test will be skipped"
fi

# The decision-log tests run initdb and pg_ctl from Debian's postgresql package in a
# temporary folder on 127.0.0.1; they never use the system's own cluster.
if [[ $want_test -eq 1 ]] && ! command -v initdb >/dev/null 2>&1 \
    && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_install postgresql || say "PostgreSQL is missing: its decision-log tests are skipped (and fail under CI=true)"
fi

stamp=.venv/.pumpdx-synced
if [[ ! -f $stamp || uv.lock -nt $stamp || pyproject.toml -nt $stamp ]]; then
  say "creating the environment in .venv (uv sync --frozen)"
  $UV sync --frozen --quiet --python "$PYTHON"
  touch "$stamp"
fi
