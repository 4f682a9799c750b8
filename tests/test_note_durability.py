"""A process writing notes is killed (SIGKILL) at random points: every note is a whole version."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap

from samples import DIGEST_PLAIN, TODAY

from paperdesk.core import Library

WRITER = textwrap.dedent("""
    import random, sys
    from paperdesk.core import Library, annotations
    lib = Library.open(sys.argv[1])
    ids = sys.argv[2:]
    rng = random.Random(int.from_bytes(__import__("os").urandom(4), "little"))
    for i in range(1, 10**9):
        size = rng.randint(0, 50_000)
        body = f"v{i}:{size}:" + "x" * size
        lib.notes.set(ids[i % len(ids)], body, autosave=rng.random() < 0.5)
        print(i, flush=True)
""")
VERSION = re.compile(r"^v(\d+):(\d+):(x*)$")


def test_killed_writer_never_leaves_a_partial_note(tmp_path):
    folder = tmp_path / "lib"
    with Library.open(folder) as lib:
        lib.import_paths([DIGEST_PLAIN], today=TODAY)
        ids = lib.paper_ids(limit=5)
    rng = random.Random(1234)
    for _round in range(4):
        with subprocess.Popen([sys.executable, "-c", WRITER, str(folder), *ids],
                              stdout=subprocess.PIPE, text=True) as child:
            target = rng.randint(1, 60)
            last = 0
            for line in child.stdout:
                last = int(line)
                if last >= target:
                    break
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
        assert last >= target
        with Library.open(folder) as lib:
            assert lib.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            for pid in ids:
                body = lib.notes.get(pid)
                if body:
                    match = VERSION.match(body)
                    assert match, body[:80]
                    assert int(match.group(2)) == len(match.group(3))  # the whole text, not a prefix
            for rev in lib.notes.history(ids[0])[:20]:
                match = VERSION.match(rev.body)
                assert rev.body == "" or (match and int(match.group(2)) == len(match.group(3)))
