"""One app id and one version drive the .desktop file, the AppStream metainfo and the icons."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from paperdesk import APP_ID, __version__
from paperdesk.core.paths import resources_dir

APP = resources_dir() / "app"


def test_files_are_named_by_the_app_id():
    assert (APP / f"{APP_ID}.desktop").is_file()
    assert (APP / f"{APP_ID}.metainfo.xml").is_file()
    assert (APP / f"{APP_ID}.svg").is_file()
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = APP / "png" / f"{size}x{size}" / f"{APP_ID}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metainfo_names_the_same_id_version_and_desktop_file():
    root = ET.parse(APP / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.find("releases/release").get("version") == __version__
    desktop = (APP / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    assert f"Icon={APP_ID}\n" in desktop


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils missing")
def test_desktop_file_validates():
    proc = subprocess.run(["desktop-file-validate", str(APP / f"{APP_ID}.desktop")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "error" not in proc.stdout.lower(), proc.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream missing")
def test_metainfo_validates():
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(APP / f"{APP_ID}.metainfo.xml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_version_flag():
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"PaperDesk {__version__}"
