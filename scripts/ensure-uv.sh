#!/usr/bin/env bash
# Print the path of a uv that can run this project, installing the pinned release first if
# need be. On failure print nothing on stdout, one line on stderr saying what to install, and
# exit 1, so that the Makefile never runs a target with an empty tool path.
#
# The install goes into a private virtual environment, because a distribution's python3
# (Debian 12, Ubuntu 24.04) is marked externally managed (PEP 668) and refuses
# `pip install --user`; uv's own installer script downloads from GitHub, which is not
# reachable everywhere this project is built, while PyPI is.
set -euo pipefail
UV_VERSION=0.13.8

fail() {
  echo "ensure-uv: $*" >&2
  exit 1
}

# uv is at 0.x: a minor release may change how it resolves or reads uv.lock, a patch release
# does not. So a uv already installed is used only if it is the pinned minor release at the
# pinned patch or later; anything else is passed over (not an error) for the private install.
usable() {
  local out version
  out=$("$1" --version 2>/dev/null) || return 1
  version=${out#uv }
  version=${version%% *}
  [[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || return 1
  [ "${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" = "${UV_VERSION%.*}" ] \
    && [ "${BASH_REMATCH[3]}" -ge "${UV_VERSION##*.}" ]
}

if found=$(command -v uv) && usable "$found"; then
  echo "$found"
  exit 0
fi
if [ -n "${HOME:-}" ] && usable "$HOME/.local/bin/uv"; then
  echo "$HOME/.local/bin/uv" # where earlier versions of this script put it
  exit 0
fi

if [ -n "${XDG_CACHE_HOME:-}" ]; then
  cache="$XDG_CACHE_HOME/schoolgate"
elif [ -n "${HOME:-}" ]; then
  cache="$HOME/.cache/schoolgate"
else
  fail "neither HOME nor XDG_CACHE_HOME is set, so there is nowhere to install uv"
fi
private="$cache/uv-$UV_VERSION"
if usable "$private/bin/uv"; then
  echo "$private/bin/uv"
  exit 0
fi

python=${SCHOOLGATE_PYTHON:-python3}
command -v "$python" >/dev/null \
  || fail "Python 3 is needed to install uv: run 'sudo apt-get install python3 python3-venv'"
mkdir -p "$cache" || fail "cannot create $cache to install uv in"
# Built beside its final place and renamed when complete, so an interrupted or concurrent
# install never leaves a half-made one where the next run would look.
work=$(mktemp -d "$cache/.uv-$UV_VERSION.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "ensure-uv: installing uv $UV_VERSION from PyPI into $private..." >&2
# Debian and Ubuntu ship venv's pip bootstrap (ensurepip) separately, in python3-venv.
"$python" -m venv "$work" >/dev/null 2>&1 \
  || fail "$python cannot make a virtual environment: run 'sudo apt-get install python3-venv'"
if ! "$work/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  "uv==$UV_VERSION" >"$work/pip.log" 2>&1; then
  fail "pip could not install uv $UV_VERSION from PyPI: $(grep -m1 -i error "$work/pip.log" \
    || tail -n1 "$work/pip.log")"
fi
usable "$work/bin/uv" || fail "the uv installed in $work does not run"
# The environment's pip scripts name the build path in their first line and break with the
# rename; only bin/uv is used afterwards, and it is a self-contained program.
rm -rf "$private" # not usable (checked above): a leftover, e.g. from a deleted file
# A concurrent run may have moved its own in first; then the rename fails and that one is used.
if ! mv -T "$work" "$private" 2>/dev/null && ! usable "$private/bin/uv"; then
  fail "cannot move the new uv into $private"
fi
echo "$private/bin/uv"
