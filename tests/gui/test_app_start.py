"""Start-up: one desk per library (a second launch focuses the first), clear errors, screenshots."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from paperdesk.gui.single_instance import InstanceServer, server_name

SECOND_LAUNCH = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QCoreApplication
    from paperdesk.gui.single_instance import ask_running_instance
    app = QCoreApplication([])
    print("found" if ask_running_instance(Path(sys.argv[1])) else "none", flush=True)
""")


def _second_launch(folder) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SECOND_LAUNCH, str(folder)],
                            stdout=subprocess.PIPE, text=True)


def test_second_launch_on_the_same_library_activates_the_first(qtbot, tmp_path, qapp):
    folder = tmp_path / "lib"
    folder.mkdir()
    server = InstanceServer(folder)
    assert server.listening
    try:
        with qtbot.waitSignal(server.activate_requested, timeout=10_000):
            child = _second_launch(folder)
        out, _ = child.communicate(timeout=30)
        assert out.strip() == "found"
    finally:
        server.close()


def test_another_library_is_not_the_same_instance(tmp_path, qapp):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    server = InstanceServer(tmp_path / "a")
    try:
        child = _second_launch(tmp_path / "b")
        out, _ = child.communicate(timeout=30)
        assert out.strip() == "none"
    finally:
        server.close()


def test_gui_on_a_damaged_library_exits_with_a_clear_message(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "library.sqlite3").write_bytes(b"garbage" * 1000)
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), "gui",
                           "--screenshot", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "damaged or not a PaperDesk library" in proc.stderr
    assert (folder / "library.sqlite3").read_bytes() == b"garbage" * 1000
