"""arXiv ids found by title through a real HTTP server answering recorded arXiv API responses:
exact normalised titles only, batched, politely spaced, resumable, never over a user's id."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from feed_server import serve_folder
from pdf_samples import pending_lookups

from paperdesk.core import LibraryError
from paperdesk.core.pdf import arxiv
from paperdesk.core.records import IncomingPaper, SourceBatch

# Titles as a digest might spell them (case, punctuation); the response spells them its own way.
LUTTINGER = "A Luttinger liquid core inside Helium-4-filled nanopores"
MELTING = "THERMAL MELTING OF DENSITY WAVES ON THE SQUARE LATTICE."
UNKNOWN = "A paper that arXiv never saw"


def add_papers(lib, *titles: str) -> list[str]:
    papers = [IncomingPaper(title=t, abstract=f"About {t}.") for t in titles]
    digest = hashlib.sha1("|".join(titles).encode()).hexdigest()
    lib.import_batch(SourceBatch("digest", "test", "test", "2026-11-01", digest, papers))
    return [lib.conn.execute("SELECT id FROM papers WHERE title = ?", (t,)).fetchone()[0] for t in titles]


def requests(log: Path) -> list[tuple[float, str, str]]:
    if not log.exists():
        return []
    return [(float(t), path, agent) for t, path, agent in
            (line.split(" ", 2) for line in log.read_text().splitlines())]


def paper(lib, pid):
    return lib.conn.execute("SELECT arxiv_id, arxiv_version, arxiv_source FROM papers WHERE id = ?",
                            (pid,)).fetchone()


def test_exact_titles_resolve_in_one_polite_request(lib, api):
    lut, melt, unknown = add_papers(lib, LUTTINGER, MELTING, UNKNOWN)
    results = {r.paper_id: r for r in arxiv.resolve_ids(lib)}
    assert paper(lib, lut) == ("1201.4869", "v1", "resolved")
    assert paper(lib, melt) == ("cond-mat/0412498", "v1", "resolved")
    assert paper(lib, unknown) == (None, None, None)
    assert results[unknown].state == "unmatched" and "exact title" in results[unknown].reason
    ((_, path, agent),) = requests(api)  # three titles, one request
    assert "search_query=ti%3A%22a+luttinger+liquid+core" in path and "+OR+ti%3A" in path
    assert agent.startswith("PaperDesk/")
    assert lib.get(lut)["arxiv_id"] == "1201.4869"
    assert [h.id for h in lib.search.run("id:1201.4869", typing=False).hits] == [lut]
    # Undoable like any change; the look-up stays done, so --all does not ask again.
    lib.undo()
    assert paper(lib, lut) == (None, None, None)
    assert arxiv.resolve_ids(lib) == [] or all(r.paper_id == unknown for r in arxiv.resolve_ids(lib))


def test_unmatched_are_not_asked_again_unless_named(lib, api):
    (unknown,) = add_papers(lib, UNKNOWN)
    assert [r.state for r in arxiv.resolve_ids(lib)] == ["unmatched"]
    assert arxiv.resolve_ids(lib) == []
    assert [r.state for r in arxiv.resolve_ids(lib, [unknown])] == ["unmatched"]
    assert len(requests(api)) == 2


def test_requests_to_one_host_are_spaced(lib, api, monkeypatch):
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0.3")
    monkeypatch.setattr(arxiv, "BATCH_TITLES", 1)
    add_papers(lib, LUTTINGER, MELTING, UNKNOWN)
    progress = []
    arxiv.resolve_ids(lib, progress=lambda done, total, what: progress.append((done, total)))
    times = [t for t, _, _ in requests(api)]
    assert len(times) == 3
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(times)), times
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)


def test_cancel_then_resume_asks_only_for_what_is_left(lib, api, monkeypatch):
    monkeypatch.setattr(arxiv, "BATCH_TITLES", 1)
    _, melt, unknown = add_papers(lib, LUTTINGER, MELTING, UNKNOWN)
    calls = []

    def cancel_after_first(done, total, what):
        calls.append(done)

    results = arxiv.resolve_ids(lib, progress=cancel_after_first, cancelled=lambda: len(calls) > 1)
    assert [r.state for r in results] == ["resolved", "cancelled", "cancelled"]
    assert pending_lookups(lib) == 2
    assert len(requests(api)) == 1
    results = arxiv.resolve_ids(lib)  # a new run (or a new process after a crash) takes the rest
    assert sorted(r.paper_id for r in results) == sorted([melt, unknown])
    assert pending_lookups(lib) == 0 and len(requests(api)) == 3
    assert paper(lib, melt)[0] == "cond-mat/0412498"


def test_a_desk_job_takes_a_slice_and_leaves_the_rest_pending(lib, api, monkeypatch):
    monkeypatch.setattr(arxiv, "BATCH_TITLES", 2)
    add_papers(lib, LUTTINGER, MELTING, UNKNOWN)
    results = arxiv.resolve_ids(lib, max_requests=1)
    assert len(results) == 2 and len(requests(api)) == 1 and pending_lookups(lib) == 1
    assert [r.state for r in arxiv.resolve_ids(lib, max_requests=1)] == ["unmatched"]
    assert pending_lookups(lib) == 0


def test_dead_server_changes_nothing_and_is_retried(lib, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PAPERDESK_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
    (lut,) = add_papers(lib, LUTTINGER)
    (result,) = arxiv.resolve_ids(lib)
    assert result.state == "error" and "could not connect" in result.reason
    assert paper(lib, lut) == (None, None, None)
    assert lib.history(1)[0].kind == "import"
    assert [r.state for r in arxiv.resolve_ids(lib)] == ["error"]  # errors are tried again


def test_api_error_answer_and_html_are_errors(lib, tmp_path, monkeypatch):
    root = tmp_path / "server"
    (root / "api").mkdir(parents=True)
    (root / "api" / "query").write_text(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>arXiv Query</title>'
        '<entry><id>http://arxiv.org/api/errors#incorrect_id_format</id><title>Error</title>'
        '<summary>incorrect id format</summary></entry></feed>')
    (lut,) = add_papers(lib, LUTTINGER)
    monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
    with serve_folder(root) as url:
        monkeypatch.setenv("PAPERDESK_ARXIV_API", f"{url}/api/query")
        (result,) = arxiv.resolve_ids(lib)
        assert result.state == "error" and "refused the query: incorrect id format" in result.reason
        (root / "api" / "query").write_text("<html><body>Service unavailable</body></html>")
        (result,) = arxiv.resolve_ids(lib)
        assert result.state == "error" and "not an Atom feed" in result.reason
    assert paper(lib, lut) == (None, None, None)


def test_match_accepts_only_one_exact_title():
    one = arxiv.ArxivEntry("2401.00001", "v1", "Deep Nets: A Survey")
    assert arxiv.match("deep nets a survey", [one]) == one
    assert arxiv.match("deep nets a survey of things", [one]) is None
    two = arxiv.ArxivEntry("2401.00002", "v3", "Deep nets — a survey")
    assert arxiv.match("deep nets a survey", [one, two]) == "ambiguous"
    newer = arxiv.ArxivEntry("2401.00001", "v2", "Deep nets: a survey")
    assert arxiv.match("deep nets a survey", [one, newer]) == newer  # one paper, two versions


def test_user_set_id_is_undoable_and_never_overwritten(lib, api):
    lut, melt = add_papers(lib, LUTTINGER, MELTING)
    arxiv.set_arxiv_id(lib, lut, "arXiv:2401.12345v3")
    assert paper(lib, lut) == ("2401.12345", "v3", "user")
    (skipped, resolved) = arxiv.resolve_ids(lib, [lut, melt])
    assert skipped.state == "skipped" and "set by hand" in skipped.reason
    assert resolved.state == "resolved"
    assert paper(lib, lut) == ("2401.12345", "v3", "user")
    with pytest.raises(LibraryError, match="already the id of paper"):
        arxiv.set_arxiv_id(lib, lut, "https://arxiv.org/abs/cond-mat/0412498")
    with pytest.raises(LibraryError, match="not one arXiv id"):
        arxiv.set_arxiv_id(lib, lut, "hello")
    with pytest.raises(LibraryError, match="no paper with id nope"):
        arxiv.set_arxiv_id(lib, "nope", "2401.12345")
    arxiv.set_arxiv_id(lib, lut, "")  # cleared by hand: the resolver leaves it alone too
    assert paper(lib, lut) == (None, None, "user")
    assert arxiv.resolve_ids(lib) == []
    lib.undo()  # the clearing
    assert paper(lib, lut) == ("2401.12345", "v3", "user")
    lib.undo()  # the look-up of the other paper
    lib.undo()  # the setting
    assert paper(lib, lut) == (None, None, None) and paper(lib, melt) == (None, None, None)


def test_a_hand_set_id_with_an_absurd_version_is_refused(lib):
    """The store caps a version at 8 characters; a hand-set one is refused past that, not kept."""
    (lut,) = add_papers(lib, LUTTINGER)
    with pytest.raises(LibraryError, match="not an arXiv version"):
        arxiv.set_arxiv_id(lib, lut, "2401.12345v99999999999999999999")
    assert paper(lib, lut) == (None, None, None)
    arxiv.set_arxiv_id(lib, lut, "2401.12345v1234567")
    assert paper(lib, lut) == ("2401.12345", "v1234567", "user")


def test_cli_resolve_and_set_arxiv(lib, api):
    lut, unknown = add_papers(lib, LUTTINGER, UNKNOWN)
    folder = lib.folder
    lib.close()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "paperdesk", "--library", str(folder), *args],
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONWARNINGS": "error"})

    proc = run("resolve", "--all", "--json")
    assert proc.returncode == 0, proc.stderr
    states = {r["paper_id"]: (r["state"], r["arxiv_id"]) for r in json.loads(proc.stdout)}
    assert states == {lut: ("resolved", "1201.4869"), unknown: ("unmatched", None)}
    proc = run("set-arxiv", unknown, "2402.00001v2")
    assert proc.returncode == 0 and "arXiv id set to 2402.00001v2" in proc.stdout
    assert run("undo", "--yes").returncode == 0
    # Text that merely holds an id (maybe another paper's) is refused, one line, nothing changed.
    for text in ("see 2402.00001 for details", "2402.00001 2402.00002", "https://example.org/abs/2402.00001"):
        proc = run("set-arxiv", unknown, text)
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert "is not one arXiv id" in proc.stderr
    proc = run("set-arxiv", unknown, "https://arxiv.org/pdf/2402.00001v3")
    assert proc.returncode == 0 and "arXiv id set to 2402.00001v3" in proc.stdout
    assert run("undo", "--yes").returncode == 0
    reopened = type(lib).open(folder)
    assert paper(reopened, unknown) == (None, None, None)
    reopened.close()
    proc = run("resolve")
    assert proc.returncode == 2 and "name papers to resolve, or --all" in proc.stderr
    proc = run("resolve", "nope")
    assert proc.returncode == 1 and proc.stderr.strip() == "paperdesk: no paper with id nope"


def test_a_stalling_api_ends_within_the_timeout_setting(lib, tmp_path, monkeypatch):
    """Look-ups used a fixed 30 s timeout whatever `pdf settings timeout` said; a server that holds
    its answer now ends the look-up after the setting's 1 s, with one line, and no id is set."""
    (pid,) = add_papers(lib, "A paper the stalling server never answers about")
    root = tmp_path / "server"
    (root / "api").mkdir(parents=True)
    with serve_folder(root) as url:
        monkeypatch.setenv("PAPERDESK_ARXIV_API", f"{url}/api/query?wait=40")  # answers after 40 s
        monkeypatch.setenv("PAPERDESK_HOST_INTERVAL", "0")
        monkeypatch.setenv("PAPERDESK_PDF_TIMEOUT", "1")
        (result,) = arxiv.resolve_ids(lib, [pid])
    assert result.state == "error"
    assert result.reason == "arXiv API: timed out: no answer from the server within 1 s"
    assert paper(lib, pid) == (None, None, None)
