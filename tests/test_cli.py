"""End-to-end: the `paperdesk` command in a subprocess, as scripts and cron use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from samples import DIGEST_BLOCKS, DIGEST_PLAIN


def run(*args: str, library=None, check: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "paperdesk"]
    if library is not None:
        cmd += ["--library", str(library)]
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_help_does_not_import_qt():
    code = ("import sys\nfrom paperdesk.cli.main import main\n"
            "rc = main(['--help'])\n"
            "assert rc == 0\n"
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))]\n"
            "assert 'whoosh' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert ("import" in proc.stdout and "search" in proc.stdout) or "import" in proc.stdout


def test_import_list_show_json(tmp_path):
    proc = run("import", str(DIGEST_BLOCKS), str(DIGEST_PLAIN), "--json", library=tmp_path, check=True)
    report = json.loads(proc.stdout)
    assert report["papers"] == 98 + 79 and report["ok"] is True
    listed = json.loads(run("list", "--json", "--limit", "5", library=tmp_path, check=True).stdout)
    assert len(listed) == 5
    assert {"id", "title", "sources", "tags", "authors"} <= set(listed[0])
    pid = listed[0]["id"]
    shown = json.loads(run("show", pid, "--json", library=tmp_path, check=True).stdout)
    assert shown == listed[0]


def test_triage_commands_and_stats(tmp_path):
    run("import", str(DIGEST_PLAIN), library=tmp_path, check=True)
    pid = json.loads(run("list", "--json", "--limit", "1", library=tmp_path).stdout)[0]["id"]
    run("star", pid, library=tmp_path, check=True)
    run("tag", pid, "scaling", "llm", library=tmp_path, check=True)
    run("archive", pid, library=tmp_path, check=True)
    record = json.loads(run("show", pid, "--json", library=tmp_path).stdout)
    assert record["starred"] and record["tags"] == ["llm", "scaling"]
    assert record["status"] == "archived"
    archived = json.loads(run("list", "--json", "--status", "archived", library=tmp_path).stdout)
    assert [r["id"] for r in archived] == [pid]
    starred = json.loads(run("list", "--json", "--starred", "--tag", "llm", library=tmp_path).stdout)
    assert [r["id"] for r in starred] == [pid]
    stats = json.loads(run("stats", "--json", library=tmp_path, check=True).stdout)
    assert stats["papers"] == 79 and stats["sources"] == 1 and stats["tags"] == {"llm": 1, "scaling": 1}
    run("untag", pid, "llm", library=tmp_path, check=True)
    run("undo", "--yes", library=tmp_path, check=True)
    assert json.loads(run("show", pid, "--json", library=tmp_path).stdout)["tags"] == ["llm", "scaling"]


def test_exit_codes_and_messages(tmp_path):
    bad = tmp_path / "image.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    proc = run("import", str(bad), library=tmp_path / "lib")
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"paperdesk: {bad}: is a PNG image, not a text digest"
    proc = run("show", "nope", library=tmp_path / "lib")
    assert proc.returncode == 1 and "no paper with id nope" in proc.stderr
    assert run("list", "--limit", "x", library=tmp_path / "lib").returncode == 2
    assert run("frobnicate").returncode == 2
    stats = json.loads(run("stats", "--json", library=tmp_path / "lib").stdout)
    assert stats["papers"] == 0


def test_library_from_environment(tmp_path):
    env = {**os.environ, "PAPERDESK_LIBRARY": str(tmp_path / "envlib")}
    subprocess.run([sys.executable, "-m", "paperdesk", "import", str(DIGEST_PLAIN)], env=env,
                   check=True, capture_output=True, timeout=60)
    assert (tmp_path / "envlib" / "library.sqlite3").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and /dev/zero are POSIX only")
def test_import_refuses_a_fifo_and_a_device_in_one_line_each(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # today's reader blocks on it for ever (the timeout in run() would fire)
    proc = run("import", str(fifo), "/dev/zero", str(DIGEST_PLAIN), library=tmp_path / "lib")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"paperdesk: {fifo}: is a named pipe (FIFO), not a regular file; refused",
        "paperdesk: /dev/zero: is a character device, not a regular file; refused",
    ]
    assert "79 papers: 79 new" in proc.stdout


def test_a_reader_that_stops_early_ends_the_output_quietly(seeded, library_dir):
    """`paperdesk list | head -3`: the reader closes the pipe; no traceback, exit 0."""
    some_id = seeded.paper_ids(limit=1)[0]
    for args in (["list"], ["list", "--json"], ["search", "model"], ["similar", some_id]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # closed before the first write: every write fails, deterministically
        try:
            proc = subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(library_dir), *args],
                                  stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write_end)
        assert (proc.returncode, proc.stderr) == (0, ""), args


def test_one_author_is_one_author_in_show_and_the_reader(lib, library_dir):
    from export_support import add_papers

    from paperdesk.core.reader_html import paper_html
    from paperdesk.core.records import IncomingPaper

    solo, many = add_papers(lib, [IncomingPaper("Solo work", "A.", authors_count=1),
                                  IncomingPaper("Group work", "B.", authors_count=5)])
    shown = run("show", solo, library=library_dir, check=True).stdout
    assert " · 1 author · " in shown and "authors" not in shown
    assert " · 5 authors · " in run("show", many, library=library_dir, check=True).stdout
    page = paper_html(lib, lib.get(solo))
    assert "1 author<" in page or "1 author " in page
    assert "1 authors" not in page


def test_a_commands_expected_refusal_is_one_line(tmp_path):
    lib = tmp_path / "lib"
    run("import", str(DIGEST_PLAIN), library=lib, check=True)
    (tmp_path / "notes.bib").write_text("@misc{mine, title={kept by hand}}\n")
    for args in (("rules", "rm", "no-such-rule"),  # RuleError
                 ("export", "bibtex", str(tmp_path / "notes.bib")),  # ExportError: not PaperDesk's file
                 ("pdf", "import", str(tmp_path / "missing"))):  # PdfRejected: not a folder
        proc = run(*args, library=lib)
        assert proc.returncode == 1, args
        assert proc.stderr.startswith("paperdesk: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr
    assert (tmp_path / "notes.bib").read_text() == "@misc{mine, title={kept by hand}}\n"


class _Terminal:
    """stderr as a terminal sees it: what was written, in order."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_line_is_one_rewritten_line_ended_once(monkeypatch):
    from paperdesk.cli.output import progress_line

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_line() as progress:
        progress(0, 2, "a.txt")
        progress(1, 2, "b.txt")
        progress(2, 2, "")
    assert terminal.text.count("\r") == 3 and terminal.text.endswith("\n") and terminal.text.count("\n") == 1
    assert "[1/2] b.txt" in terminal.text
    terminal.text = ""
    with progress_line() as progress:
        progress(0, 0, "")  # nothing to do: no line, no blank line
    with progress_line(show=False) as progress:  # --json: no callback at all
        assert progress is None
    assert terminal.text == ""
    with pytest.raises(KeyboardInterrupt), progress_line(percent=True) as progress:
        progress(5, 20, "line 12")
        raise KeyboardInterrupt
    assert terminal.text == f"\r 25.0% {'line 12':<60}\n"  # ended before the interrupt's own line
