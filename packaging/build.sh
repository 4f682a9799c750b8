#!/usr/bin/env bash
# Build the one-folder app with PyInstaller into build/dist/paperdesk and smoke-test it:
# --version, an import of the sample digests, a PDF attached and searched (pdfium bundled), a
# --screenshot, a search index rebuilt by spawned worker processes (which a frozen app must route
# through freeze_support()) and a ranked search, all from the build.
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
# A PDF from the build: pdfium's shared library must be bundled (attaching checks the file with it,
# its text is extracted and indexed, a full-text search finds its page; the screenshot opens it).
.venv/bin/python -c "import sys; sys.path.insert(0, 'tests'); from pdf_samples import make_pdf
open(sys.argv[1], 'wb').write(make_pdf([['Frozen builds read PDFs with pdfium']]))" "$smoke/p.pdf"
first=$("$app" --library "$smoke/lib" list --json --limit 1 | .venv/bin/python -c \
  "import json, sys; print(json.load(sys.stdin)[0]['id'])")
"$app" --library "$smoke/lib" pdf attach "$first" "$smoke/p.pdf"
"$app" --library "$smoke/lib" search "fulltext:pdfium" | grep -q "p. 1"
QT_QPA_PLATFORM=offscreen "$app" --library "$smoke/lib" gui --screenshot "$smoke/shot.png"
test -s "$smoke/shot.png"
.venv/bin/python -c "import sys; sys.path.insert(0, 'tests/benchmarks')
from pathlib import Path; from synth_digests import DigestWriter
DigestWriter().write(Path(sys.argv[1]), 0, 7000)" "$smoke/synth.txt"
"$app" --library "$smoke/lib" import "$smoke/synth.txt"
"$app" --library "$smoke/lib" index rebuild | tee "$smoke/rebuild.txt"
grep -q "rebuilt the search index: 7397 papers" "$smoke/rebuild.txt"
"$app" --library "$smoke/lib" index check | grep -q "the index matches the library"
# A ranked search from the build: the evaluator's numpy arrays must be bundled.
"$app" --library "$smoke/lib" search --json --limit 3 "reasoning benchmark" > "$smoke/search.json"
grep -q '"score"' "$smoke/search.json"
echo "frozen build OK: $app"
