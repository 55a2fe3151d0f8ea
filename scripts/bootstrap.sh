#!/usr/bin/env bash
# Create .venv (Python 3.13, else 3.12) and install the pinned tools, once per change of the pins.
# Usage: scripts/bootstrap.sh [--help]
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,2p' "$0" | sed 's/^# //'
  echo "Looks for python3.13 on PATH and under \$(pyenv root)/versions, then python3.12. Set PYTHON to choose."
  exit 0
fi

cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.installed"
REQUIREMENTS=(requirements-dev.txt layers/core/python/requirements.txt pyproject.toml)

find_python() {
  local candidate version
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  for version in 3.13 3.12; do
    for candidate in "$(command -v "python$version" 2>/dev/null || true)" \
                     $(ls -d "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$version"*/bin/python"$version" 2>/dev/null | sort -r); do
      if [[ -n "$candidate" ]] && "$candidate" -c 'import sys' 2>/dev/null; then
        [[ "$version" == 3.12 ]] && echo "note: python3.13 not found; using $candidate (Lambda runs 3.13)" >&2
        echo "$candidate"; return
      fi
    done
  done
  echo "error: need python3.13 or python3.12 (on PATH or installed with pyenv)" >&2
  exit 1
}

if [[ ! -x "$VENV/bin/python" ]]; then
  PY=$(find_python)
  echo "==> creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi

digest=$(cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$digest" ]]; then
  echo "==> installing pinned dependencies (first run takes about a minute)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -r layers/core/python/requirements.txt
  # The `umapi` command (cli/), editable: .venv/bin/umapi runs the checkout's code.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --editable .
  echo "$digest" > "$STAMP"
fi

# Swagger UI's assets for the local /docs, pinned by devserver/swagger/package-lock.json and
# served by the local runtime itself (no CDN). Install scripts never run.
DOCS=devserver/swagger
if [[ ! -f "$DOCS/node_modules/.package-lock.json" || "$DOCS/package-lock.json" -nt "$DOCS/node_modules/.package-lock.json" ]]; then
  if command -v npm >/dev/null 2>&1; then
    echo "==> installing Swagger UI for /docs (npm ci)"
    (cd "$DOCS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  else
    echo "note: npm not found; /docs will say how to install Swagger UI (everything else works)" >&2
  fi
fi

# The developer dashboard (dashboard/, docs/dashboard.md), pinned by dashboard/package-lock.json
# and built into functions/dashboard/site/ (which the dashboard function serves) whenever its
# sources or the OpenAPI document change. Install scripts never run.
APP=dashboard
SITE=functions/dashboard/site
if command -v npm >/dev/null 2>&1; then
  if [[ ! -f "$APP/node_modules/.package-lock.json" || "$APP/package-lock.json" -nt "$APP/node_modules/.package-lock.json" ]]; then
    echo "==> installing the dashboard's build tools (npm ci)"
    (cd "$APP" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  sources=$(cat "$APP/package-lock.json" "$APP/index.html" "$APP/vite.config.ts" "$APP/tsconfig.json" openapi.json \
    $(find "$APP/src" -type f ! -name schema.d.ts | sort) | sha256sum | cut -d' ' -f1)
  if [[ ! -f "$SITE/.built" || "$(cat "$SITE/.built")" != "$sources" ]]; then
    echo "==> building the dashboard (types from openapi.json, tsc --strict, vite)"
    (cd "$APP" && npm run -s build >/dev/null)
    echo "$sources" > "$SITE/.built"
  fi
else
  echo "note: npm not found; the dashboard is not built (/dashboard will say so; everything else works)" >&2
fi
