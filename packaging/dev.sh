#!/usr/bin/env bash
# Set up a development environment on a bare Debian 12 (or similar) and run PaperDesk or its tests.
#   bash packaging/dev.sh run [paperdesk args]   set up, then open the desk
#   bash packaging/dev.sh test [pytest args]     set up, then run ruff and the test suite
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
shift || true

# Qt's system libraries: offscreen rendering needs the first set, a real window the second.
QT_OFFSCREEN_LIBS="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3"
QT_WINDOW_LIBS="libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0"

missing_debs() {
  local pkg out=()
  command -v dpkg-query >/dev/null || return 0
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || out+=("$pkg")
  done
  echo "${out[@]:-}"
}

install_debs() {
  local missing
  missing=$(missing_debs "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: $missing" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    echo "installing system packages with sudo: $missing" >&2
    sudo apt-get update -qq >&2
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
  else
    echo "PaperDesk needs these system packages; run as root:" >&2
    echo "  apt-get install --no-install-recommends $missing" >&2
    exit 1
  fi
}

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "PaperDesk needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  install_debs python3-venv
fi

install_debs $QT_OFFSCREEN_LIBS
if [ "$mode" = run ]; then
  install_debs $QT_WINDOW_LIBS
else
  # validators for the desktop integration tests; biber checks the BibTeX export as LaTeX users run it
  install_debs desktop-file-utils appstream biber
fi

# (Re)install into .venv only when the declared dependencies changed.
stamp=.venv/.paperdesk-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e '.[test]' >&2
  echo "$want" > "$stamp"
fi

case "$mode" in
  run)
    exec .venv/bin/paperdesk "$@"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    .venv/bin/ruff check .
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash packaging/dev.sh run|test [args]" >&2
    exit 2
    ;;
esac
