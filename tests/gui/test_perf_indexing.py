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
    seeded.search.update()  # the index exists and is current
    runner = JobRunner(seeded.folder, index_process=index_process)
    try:
        with qtbot.waitSignal(runner.indexed, timeout=60_000) as blocker:
            runner.run("import", lambda lib, _p, _c: lib.import_batch(batch(250)))
        assert blocker.args == [250]
        assert seeded.conn.execute("SELECT count(*) FROM index_queue").fetchone()[0] == 0
        found = seeded.search.run("zyxomorphic", limit=None, drain=False)
        assert found.total == 250
    finally:
        runner.shutdown()


def test_index_of_another_version_is_rebuilt_by_the_writer_not_the_reader(qtbot, seeded):
    from paperdesk.core.search import index as search_index
    from paperdesk.gui.paper_list import run_search

    seeded.search.update()
    version = seeded.folder / search_index.INDEX_DIRNAME / search_index._VERSION_FILE
    version.write_text("0\n", encoding="utf-8")  # as if written by an older PaperDesk
    assert not seeded.search.current()
    outcome = run_search(seeded, "model")  # a title match meanwhile: opening would rebuild
    assert outcome.ids and version.read_text(encoding="utf-8") == "0\n"  # not rebuilt here
    runner = JobRunner(seeded.folder)
    try:
        with qtbot.waitSignal(runner.indexed, timeout=60_000) as blocker:
            pass  # the runner looks at the index as it starts
        assert blocker.args == [seeded.count()]
        assert seeded.search.current()
    finally:
        runner.shutdown()
