#!/usr/bin/env bash
# Print the path of uv, installing the pinned version from PyPI first if it is missing.
set -euo pipefail
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
if [ -x "$HOME/.local/bin/uv" ]; then echo "$HOME/.local/bin/uv"; exit 0; fi
echo "installing uv $UV_VERSION from PyPI..." >&2
python3 -m pip install --quiet --user "uv==$UV_VERSION" >&2 2>/dev/null \
  || python3 -m pip install --quiet "uv==$UV_VERSION" >&2
command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv"
