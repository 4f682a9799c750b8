"""paperdesk/core never imports Qt, so the CLI and the tests run without a display."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import paperdesk.core

CORE = Path(paperdesk.core.__file__).parent
QT_IMPORT = re.compile(r"^\s*(from|import)\s+(PySide6|PyQt\d|shiboken\d|qtpy)\b", re.M)


def test_no_qt_import_statement_in_core():
    offenders = [str(p) for p in CORE.rglob("*.py") if QT_IMPORT.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    names = [m.name for m in pkgutil.walk_packages([str(CORE)], "paperdesk.core.")]
    assert "paperdesk.core.library" in names
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({n!r})\n" for n in names) + (
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken', 'PyQt'))]\n"
        "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_only_the_pdf_wrapper_imports_pypdfium2():
    """pdfium is not thread-safe: every call goes through core/pdf/document.py and its one lock."""
    package = CORE.parent
    pdfium_import = re.compile(r"^\s*(from|import)\s+pypdfium2", re.M)
    files = package.rglob("*.py")
    users = sorted(str(p.relative_to(package)) for p in files if pdfium_import.search(p.read_text("utf-8")))
    assert users == ["core/pdf/document.py"]


# SQL in the desk: a statement run, a connection reached for, or SQL text. The desk reads through the
# library's facade (and its reader threads), never by SQL of its own.
RAW_SQL = re.compile(r"\.execute(many)?\(|\.conn\b|\.db\.|\bPRAGMA\s+\w+"
                     r"|\b(SELECT|INSERT|UPDATE|DELETE)\s+\S+.*\b(FROM|INTO|SET)\b")
SQL_ALLOWED: set[str] = set()  # "gui/<file>.py" here only with a reason; it should stay empty


def test_the_desk_runs_no_sql_of_its_own():
    gui = CORE.parent / "gui"
    offenders = [f"{p.relative_to(CORE.parent)}:{n}: {line.strip()}"
                 for p in sorted(gui.rglob("*.py")) if str(p.relative_to(CORE.parent)) not in SQL_ALLOWED
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if RAW_SQL.search(line)]
    assert offenders == []


def test_the_sql_check_sees_sql():
    for line in ['rows = lib.conn.execute("SELECT id FROM papers")', 'cur.executemany(sql, rows)',
                 '"UPDATE papers SET starred = 1"', 'x = self.lib.db.table("papers")',
                 '"PRAGMA query_only = ON"']:
        assert RAW_SQL.search(line), line
    for line in ["# select a paper from the list", "self.select_paper(pid)", "lib.rows(ids)"]:
        assert not RAW_SQL.search(line), line


# Whoosh's internals: private attributes of its index, writers, readers and segments are reached
# only in core/search/whoosh_internals.py (checked against the installed version, with a fallback).
WHOOSH_PRIVATE = re.compile(r"\b(ix|writer|reader|searcher|seg|segment|matcher|codec|storage|schema)\._[a-z]")


def test_whoosh_internals_are_reached_in_one_module():
    package = CORE.parent
    offenders = [f"{p.relative_to(package)}:{n}: {line.strip()}"
                 for p in sorted(package.rglob("*.py")) if p.name != "whoosh_internals.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if WHOOSH_PRIVATE.search(line)]
    assert offenders == []
    assert WHOOSH_PRIVATE.search("segments = self.ix._segments()")  # what it caught in index.py
