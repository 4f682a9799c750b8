"""kill -9 in the middle of importing a file leaves the library as it was before that file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from samples import DIGEST_ALTERNATING, DIGEST_BLOCKS, TODAY

from paperdesk.core import Library

CHILD = textwrap.dedent("""
    import datetime as dt, sys
    from paperdesk.core import Library, store
    real = store.enqueue_index
    calls = []
    def enqueue_then_hang(conn, ids):
        real(conn, ids)
        calls.append(1)
        if len(calls) == 2:            # inside the second file's transaction, all rows written
            print("in-transaction", flush=True)
            sys.stdin.readline()       # wait here until the parent kills us
    store.enqueue_index = enqueue_then_hang
    lib = Library.open(sys.argv[1])
    lib.import_paths(sys.argv[2:], today=dt.date(2026, 11, 23))
""")


def test_kill_mid_import_rolls_back_that_file(tmp_path):
    folder = tmp_path / "lib"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(DIGEST_BLOCKS), str(DIGEST_ALTERNATING)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as child:
        try:
            assert child.stdout.readline().strip() == "in-transaction"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with Library.open(folder) as lib:
        assert lib.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stats = lib.stats()
        assert stats["papers"] == 98 and stats["sources"] == 1
        assert [s["name"] for s in lib.sources()] == [DIGEST_BLOCKS.name]
        # The interrupted file imports cleanly afterwards.
        report = lib.import_paths([DIGEST_ALTERNATING], today=TODAY)
        assert report.ok and report.papers == 248
