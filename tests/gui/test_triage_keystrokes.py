"""Issue 21 item 4: the keys a full triage of a digest takes, counted through the real widgets.

From the Inbox, with no mouse: `g o` opens the go-to picker, typing the sidebar's name of the digest
("nov") and Return show it, `T` starts the session, then one key per paper: Return keeps, `e`
archives, `s` stars and `1` tags, each deciding and moving on (a paper both starred and tagged takes
`s` `k` `1`); at the end Esc closes the summary. Every key goes to the widget that has the focus, as
a keyboard's would. The 98-paper digest `../shared/seeds/000…` took 152 keys before; it takes 106.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from desk_keys import settle_desks
from samples import TODAY

from paperdesk.core import quick_tags
from paperdesk.core.records import IncomingPaper, SourceBatch
from paperdesk.gui.qt import QApplication, Qt

SEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds"
BIG_DIGEST = "000_8952fd423edcbd4b.txt"
KEY_LIMIT = 110  # the goal for the 98-paper digest
NOISE = ("propagateSizeHints", "does not support raise", "grabbing the keyboard")
SPECIAL = {"Return": Qt.Key.Key_Return, "Escape": Qt.Key.Key_Escape}


@dataclass
class Keyboard:
    """Presses keys on whatever has the focus, and counts them."""

    qtbot: object
    window: object
    count: int = 0
    log: list[str] = field(default_factory=list)

    def press(self, *keys: str) -> None:
        for key in keys:
            target = QApplication.focusWidget() or self.window
            if key in SPECIAL:
                self.qtbot.keyClick(target, SPECIAL[key])
            else:
                self.qtbot.keyClicks(target, key)
            self.count += 1
            self.log.append(key)
            settle_desks(self.qtbot)  # the key's writes are stored (a job on the writer)

    def type(self, text: str) -> None:
        self.press(*text)


def decisions(n: int, both: bool = False) -> list[list[str]]:
    """A fixed mix like the issue's session: a third starred, some tagged, some archived, the rest
    kept; with `both`, every tenth paper is starred and tagged."""
    plan = []
    for i in range(n):
        if both and i % 10 == 5:
            plan.append(["s", "k", "1"])  # star (moves on), back, tag (moves on)
        elif i % 3 == 0:
            plan.append(["s"])
        elif i % 7 == 2:
            plan.append(["1"])
        elif i % 4 == 1:
            plan.append(["e"])
        else:
            plan.append(["Return"])
    return plan


def triage_with_keys(qtbot, window, label: str, both: bool = False) -> tuple[Keyboard, list[str]]:
    """Run the whole session from the Inbox; the keyboard (count, log) and the digest's papers."""
    keyboard = Keyboard(qtbot, window)
    keyboard.press("g", "o")
    picker = window.dialogs.top()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is picker.field)
    keyboard.type(label)
    keyboard.press("Return")
    qtbot.waitUntil(window.table.hasFocus)
    ids = list(window.model.ids)
    keyboard.press("T")
    assert window.triage.session is not None and window.selection.current_id() == ids[0]
    for i, keys in enumerate(decisions(len(ids), both)):
        assert window.selection.current_id() == ids[i], (i, keyboard.log[-5:])
        keyboard.press(*keys)
    summary = window.dialogs.top()
    assert window.triage.session is None and "triaged" in summary.label.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                    and QApplication.focusWidget().window() is summary)
    keyboard.press("Escape")
    qtbot.waitUntil(lambda: not summary.isVisible())
    return keyboard, ids


def check_outcome(lib, ids: list[str], both: bool = False) -> None:
    plan = decisions(len(ids), both)
    for pid, keys in zip(ids, plan, strict=True):
        row = lib.get(pid)
        assert bool(row["starred"]) == ("s" in keys), pid
        assert ("to-read" in row["tags"]) == ("1" in keys), pid
        assert (row["status"] == "archived") == ("e" in keys), pid


def expected_keys(n: int, label: str, both: bool = False) -> int:
    """g o, the label, Return, T, the decisions, Esc."""
    return 2 + len(label) + 1 + 1 + sum(len(k) for k in decisions(n, both)) + 1


@pytest.mark.qt_log_ignore(*NOISE)
def test_triage_of_a_small_digest_costs_one_key_per_paper(make_window, lib, qtbot):
    lib.import_batch(SourceBatch("digest", "synthetic.txt", "/synthetic.txt", "2025-11-05", "synthetic",
                                 [IncomingPaper(title=f"Synthetic paper {i}", abstract=f"Abstract {i}.")
                                  for i in range(14)]))
    lib.import_batch(SourceBatch("digest", "other.txt", "/other.txt", "2025-10-01", "other",
                                 [IncomingPaper(title=f"Other paper {i}") for i in range(5)]))
    quick_tags.set_quick_tag(lib, 1, "to-read")  # the user's key 1, as in the session
    window = make_window(lib)
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    keyboard, ids = triage_with_keys(qtbot, window, "nov", both=True)
    assert len(ids) == 14
    assert keyboard.count == expected_keys(14, "nov", both=True) == 2 + 3 + 1 + 1 + (14 + 2) + 1
    check_outcome(lib, ids, both=True)


@pytest.mark.qt_log_ignore(*NOISE)
def test_triage_of_the_98_paper_digest_takes_at_most_110_keys(make_window, lib, qtbot):
    if not (SEEDS / BIG_DIGEST).exists():
        pytest.skip(f"{SEEDS} is absent (the shared seeds; CI has them)")
    report = lib.import_paths(sorted(SEEDS.glob("*.txt")), today=TODAY)
    assert report.ok
    quick_tags.set_quick_tag(lib, 1, "to-read")
    window = make_window(lib, size=(1600, 1000))
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)
    keyboard, ids = triage_with_keys(qtbot, window, "nov")
    print(f"\n98-paper digest triaged with {keyboard.count} keys")
    assert len(ids) == 98
    assert keyboard.count == expected_keys(98, "nov") <= KEY_LIMIT
    check_outcome(lib, ids)
