"""`paperdesk gui --screenshot` end to end, in a subprocess as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_command_writes_a_real_png(tmp_path, seeded):
    out = tmp_path / "desk.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PAPERDESK_GUI_SETTINGS": str(tmp_path / "s.ini")}
    proc = subprocess.run(
        [sys.executable, "-m", "paperdesk", "--library", str(seeded.folder), "gui", "--screenshot", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from paperdesk.gui.app import make_app
    from paperdesk.gui.qt import QColor, QImage

    make_app()
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {QColor(image.pixel(x, y)).name() for x in range(0, 1280, 37) for y in range(0, 800, 23)}
    assert len(colours) > 5  # not blank: text, selection, icons
    assert not (tmp_path / "s.ini").exists()  # screenshots neither read nor write settings


def test_bad_library_is_a_one_line_error(tmp_path):
    bad = tmp_path / "lib"
    bad.mkdir()
    (bad / "library.sqlite3").write_text("not a database" * 100)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "paperdesk", "--library", str(bad), "gui",
         "--screenshot", str(tmp_path / "x.png")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("paperdesk: ") and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()
