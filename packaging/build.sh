#!/usr/bin/env bash
# Build the one-folder app with PyInstaller into build/dist/paperdesk and smoke-test it:
# --version, an import of the sample digests and a --screenshot, all from the build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "run 'bash packaging/dev.sh test' first" >&2; exit 1; }
.venv/bin/python -m pip install -q -e '.[package]' >&2
.venv/bin/pyinstaller --noconfirm --log-level ERROR --distpath build/dist --workpath build/work \
  packaging/paperdesk.spec
app=build/dist/paperdesk/paperdesk
smoke=$(mktemp -d)
trap 'rm -rf "$smoke"' EXIT
"$app" --version
"$app" --library "$smoke/lib" import resources/samples/*.txt
QT_QPA_PLATFORM=offscreen "$app" --library "$smoke/lib" gui --screenshot "$smoke/shot.png"
test -s "$smoke/shot.png"
echo "frozen build OK: $app"
