"""The wheel carries resources/ and finds it the same way a checkout and a frozen build do."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_declared_packages_match_the_source_tree():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                   ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "paperdesk").rglob("__init__.py")}
    assert declared == found | {"paperdesk.resources"}


def test_wheel_contains_resources_and_finds_them(tmp_path):
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheel_dir.glob("paperdesk-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    code = ("from paperdesk.core.paths import resources_dir, sample_digests\n"
            "print(resources_dir()); print(len(sample_digests()))")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True, timeout=60).stdout.split()
    assert Path(out[0]) == target / "paperdesk" / "resources"
    assert out[1] == "3"
    assert (target / "paperdesk" / "resources" / "app" / "io.github.paperdesk.PaperDesk.svg").is_file()
