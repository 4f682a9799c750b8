"""Search indexing after a writer job: a child process (the GUI's GIL stays free), or in-process slices."""

from __future__ import annotations

import pytest

from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.gui.jobs import JobRunner


def batch(n: int) -> SourceBatch:
    papers = [IncomingPaper(title=f"Zyxomorphic lattices part {i}", abstract="A new word for the index.")
              for i in range(n)]
    return SourceBatch("digest", "zyx.txt", "/zyx.txt", "2025-11-05", "hash-zyx", papers)


@pytest.mark.parametrize("index_process", [True, False])
def test_papers_imported_by_a_job_become_searchable(qtbot, seeded, index_process):
    seeded.drain_index()  # the index exists and is current
    runner = JobRunner(seeded.folder, index_process=index_process)
    try:
        with qtbot.waitSignal(runner.indexed, timeout=60_000) as blocker:
            runner.run("import", lambda lib, _p, _c: lib.import_batch(batch(250)))
        assert blocker.args == [250]
        assert seeded.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0
        found = seeded.search("zyxomorphic", limit=None, drain=False)
        assert found.total == 250
    finally:
        runner.shutdown()
