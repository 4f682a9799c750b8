"""Issue 23 on the desk: the Categories group (primary categories, counts, the rare ones through the
go-to picker) over a library filled by the real snapshot import."""

from __future__ import annotations

import json

import pytest
from desk_keys import shown_commands, sidebar_group, sidebar_item

from paperdesk.core import Library
from paperdesk.core import arxiv_snapshot as snap
from paperdesk.gui.qt import Qt
from paperdesk.gui.sidebar import CATEGORIES_SHOWN

NOISE = ("propagateSizeHints", "does not support raise", "grabbing the keyboard")


def record(n: int, cats: str, versions: int = 1) -> dict:
    """One snapshot line with the real field shapes (see tests/test_arxiv_snapshot.py)."""
    return {
        "id": f"2403.{n:05d}", "submitter": "Ada Lovelace", "authors": "Ada Lovelace and Alan Turing",
        "title": f"On $\\mathcal{{O}}(n)$ attention number {n}", "comments": None, "journal-ref": None,
        "doi": None, "report-no": None, "categories": cats, "license": None,
        "abstract": f"We study paper {n}.",
        "versions": [{"version": f"v{v}", "created": f"Mon, {v} Apr 2024 10:00:00 GMT"}
                     for v in range(1, versions + 1)],
        "update_date": "2024-04-02", "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]],
    }


def write_snapshot(path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


# cs.CL: 4 papers (one cross-listed to cs.LG), cs.LG: 3, math.AG: 2, then one paper in each of 30
# rare categories: 33 categories, of which the sidebar shows 30.
RARE = [f"physics.r{i:02d}" for i in range(30)]


def snapshot_records() -> list[dict]:
    cats = ["cs.CL cs.LG"] + ["cs.CL"] * 3 + ["cs.LG cs.CL"] * 3 + ["math.AG"] * 2 + RARE
    return [record(n, c) for n, c in enumerate(cats, start=1)]


@pytest.fixture
def empty(tmp_path):
    with Library.open(tmp_path / "lib") as lib:
        yield lib


def group(window):
    return sidebar_group(window.sidebar, "Categories")


def shown(window) -> list[tuple[str, str]]:
    g = group(window)
    return [(g.child(i).text(0), g.child(i).text(1)) for i in range(g.childCount())
            if not g.child(i).isHidden()]


@pytest.mark.qt_log_ignore(*NOISE)
def test_categories_group_counts_primary_categories_and_reaches_the_rest(make_window, empty, tmp_path, qtbot):
    window = make_window(empty)
    assert group(window).isHidden()  # no paper has categories yet
    f = tmp_path / "snap.jsonl"
    write_snapshot(f, snapshot_records())
    assert snap.import_snapshot(window.lib, f).new == 39
    qtbot.waitUntil(lambda: not group(window).isHidden())
    rows = shown(window)
    assert len(rows) == CATEGORIES_SHOWN == 30
    # most papers first, a cross-listed paper counted under its primary category only
    assert rows[:4] == [("cs.CL", "4"), ("cs.LG", "3"), ("math.AG", "2"), ("physics.r00", "1")]
    assert rows[-1] == ("physics.r26", "1")
    hidden = [e for e in window.sidebar.entries() if e.key in {f"category:{c}" for c in RARE[27:]}]
    assert [(e.title, e.kind, e.detail) for e in hidden] == [
        (c, "category", f"1 paper · cat:{c}") for c in RARE[27:]]

    window.sidebar.setCurrentItem(sidebar_item(window.sidebar, "category:cs.LG"))  # a click
    assert window.papers.view.key == "category:cs.LG"
    qtbot.waitUntil(lambda: window.model.rowCount() == 3)
    assert all(window.lib.get(pid)["primary_category"] == "cs.LG" for pid in window.model.ids)

    # a rare category through the go-to picker: chosen, shown, and its item unhidden
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClicks(window.table, "go")
    picker = window.dialogs.top()
    qtbot.waitUntil(picker.isVisible)
    qtbot.keyClicks(picker.field, "physics.r29")
    assert shown_commands(picker) == ["view:category:physics.r29"]
    qtbot.keyClick(picker.field, Qt.Key.Key_Return)
    assert window.papers.view.key == "category:physics.r29"
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.ids[0] == "2403.00039"
    assert ("physics.r29", "1") in shown(window)
    assert window.sidebar.current_key() == "category:physics.r29"


def test_digest_only_library_has_no_categories_group(make_window, seeded):
    window = make_window(seeded)
    assert group(window).isHidden()
    assert not [e for e in window.sidebar.entries() if e.kind == "category"]


def test_updated_paper_is_marked_in_the_list_and_the_reader_until_decided_again(make_window, empty,
                                                                               tmp_path, qtbot):
    from paperdesk.gui.paper_model import COLUMN_KEYS

    first, later = tmp_path / "v1.jsonl", tmp_path / "v3.jsonl"
    write_snapshot(first, [record(1, "cs.CL cs.LG"), record(2, "cs.CL")])
    snap.import_snapshot(empty, first)
    empty.star(["2403.00001"])
    write_snapshot(later, [record(1, "cs.CL cs.LG", versions=3), record(2, "cs.CL", versions=2)])
    snap.import_snapshot(empty, later)
    window = make_window(empty)
    window.go_to("all")
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    marks = COLUMN_KEYS.index("marks")
    row = window.model.row_of("2403.00001")

    def cell(r: int, role=Qt.ItemDataRole.DisplayRole):
        return window.model.index(r, marks).data(role)

    assert cell(row) == "↻"
    assert cell(row, Qt.ItemDataRole.ToolTipRole).startswith("arXiv v3, updated after you starred v1")
    assert cell(window.model.row_of("2403.00002")) == ""  # never decided on: a new version is no news
    window.table.setFocus()
    window.selection.move_current(row)
    qtbot.waitUntil(lambda: window.reader.paper_id == "2403.00001")
    text = window.reader.browser.toPlainText()
    assert "arXiv:2403.00001v3" in text and "cs.CL cs.LG" in text
    assert "↻ v3, updated after you starred v1" in text
    window.run_command("star")  # unstar: a new decision answers the note
    qtbot.waitUntil(lambda: cell(window.model.row_of("2403.00001")) == "")
    qtbot.waitUntil(lambda: "updated after" not in window.reader.browser.toPlainText())
