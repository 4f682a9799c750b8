"""The desk's changes to papers: star, tag, archive, back to the inbox, and undo/redo of this
desk's own changes. Each is a write on the one writer thread (`JobRunner.write`); its `Changes`
come back to the window's one refresh hook, and the writer has the search index follow."""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core import Library, LibraryError, quick_tags
from paperdesk.core.library import check_tag_lengths
from paperdesk.gui.dialogs import Dialogs
from paperdesk.gui.for_you import ForYou
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.keys import KeyDispatcher
from paperdesk.gui.qt import QWidget
from paperdesk.gui.selection import Selection
from paperdesk.gui.sidebar import Sidebar
from paperdesk.gui.tag_popup import TagPopup
from paperdesk.gui.triage import Triage


class PaperWrites:
    def __init__(self, parent: QWidget, lib: Library, jobs: JobRunner, selection: Selection,
                 triage: Triage, status: Callable[[str], None], *, sidebar: Sidebar,
                 keys: KeyDispatcher, dialogs: Dialogs, for_you: ForYou):
        self.parent, self.lib, self.jobs, self.selection = parent, lib, jobs, selection
        self.triage, self.status = triage, status
        self.sidebar, self.keys, self.dialogs, self.for_you = sidebar, keys, dialogs, for_you
        self.tag_popup: TagPopup | None = None

    def _papers_text(self, ids: list[str]) -> str:
        """A status message's object: the paper's shortened title, or how many papers."""
        return self.lib.paper_label(ids[0]) if len(ids) == 1 else f"{len(ids)} papers"

    def mark_read(self, ids: list[str]) -> None:
        self.jobs.write("Mark read", lambda lib: lib.mark_read(ids),
                        lambda _r: self.selection.model.refresh_rows(set(ids)))

    def _acted(self, ids: list[str], bulk: bool) -> None:
        self.selection.done_with(ids)
        self.triage.decided(ids, bulk)

    def toggle_star(self) -> None:
        ids, bulk = self.selection.targets(), bool(self.selection.marked)
        if not ids:
            return
        what = self._papers_text(ids)

        def star(lib: Library) -> bool:
            # Decided on the writer, from the stored state: two quick presses star, then unstar
            # (decided here, both would read the state before the first was stored).
            starred = not all(r["starred"] for r in lib.rows(ids))
            lib.star(ids, starred)  # one operation: one undo step
            return starred

        self.jobs.write("Star", star, lambda on: self.status(f"{'Starred' if on else 'Unstarred'} {what}"))
        self._acted(ids, bulk)

    def tag_targets(self, tags: list[str], keys: dict[str, int] | None = None) -> None:
        """Tag the targets; a tag without a quick key takes the first free one (`keys`: given ones)."""
        ids, bulk = self.selection.targets(), bool(self.selection.marked)
        tags = [t for t in tags if t.strip()]
        if not ids or not tags:
            return
        try:
            check_tag_lengths(tags)  # refused here in one line, before "Tagged" is said
        except LibraryError as exc:
            self.status(str(exc))
            return

        def tag(lib: Library) -> object:
            changes = lib.tag(ids, tags)
            for name, number in (keys or {}).items():
                quick_tags.set_quick_tag(lib, number, name)
            quick_tags.assign(lib, tags)
            return changes

        self.jobs.write("Tag", tag)
        self.status(f"Tagged {self._papers_text(ids)} #{' #'.join(tags)}")
        self._acted(ids, bulk)

    def tags_by_count(self) -> list[str]:
        """The library's tags, most used first, as the sidebar last read them (on the reader thread)."""
        counts = self.sidebar.tag_counts
        return sorted(counts, key=lambda t: (-counts[t], t))

    def apply_tag_number(self, n: int) -> None:
        tag = quick_tags.quick_tags(self.lib).get(n)
        if tag is None:
            self.status(f"No tag on key {n} yet: press t and type a tag (a new tag takes the first free "
                        f"key; tag={n} puts it on {n})")
            return
        self.tag_targets([tag])

    def show_tag_popup(self) -> None:
        targets = self.selection.targets()
        if not targets:
            return
        popup = self.tag_popup = TagPopup(self.tags_by_count(), self.parent, quick_tags.quick_tags(self.lib))
        popup.chosen.connect(self.tag_targets)
        self.keys.watch(popup.field, "insert")
        self.dialogs.open(popup)
        if len(targets) == 1:  # likely tags, from the tags' papers, on the ranker thread (gui/for_you.py)
            own = set((self.lib.get(targets[0]) or {}).get("tags") or [])
            tags = [t for t in self.tags_by_count() if t not in own]
            self.for_you.suggest(targets[0], tags,
                                 lambda likely: popup.set_likely(likely) if self.tag_popup is popup else None)

    def archive_next(self) -> None:
        """Archive the targets; the list then shows the next paper (in any view)."""
        sel = self.selection
        ids = sel.targets()
        if not ids:
            return
        if self.triage.session is not None and not sel.marked:
            self.triage.decide("archive")
            return
        row = sel.table.currentIndex().row()
        current = sel.current_id()
        following = sel.next_not_in(row, set(ids))  # found before the archived ones leave the list
        self.jobs.write("Archive", lambda lib: lib.archive(ids))
        self.status(f"Archived {self._papers_text(ids)} (u undoes)")
        sel.done_with(ids)
        if following is not None and sel.model.row_of(following) is not None:
            sel.select_id(following)
        elif current is not None and sel.model.row_of(current) == row:  # still listed: step on
            sel.move_current(1)

    def move_to_inbox(self) -> None:
        ids = self.selection.targets()
        if ids:
            self.jobs.write("Move to inbox", lambda lib: lib.set_status(ids, "inbox"))
            self.selection.done_with(ids)

    # -- undo -----------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo this desk's own last change (not what the command line or a refresh did)."""
        self.jobs.write("Undo", lambda lib: lib.undo(own=True), lambda done: self._replayed("Undid", done),
                        refused=LibraryError)

    def redo(self) -> None:
        self.jobs.write("Redo", lambda lib: lib.redo(own=True), lambda done: self._replayed("Redid", done),
                        refused=LibraryError)

    def _replayed(self, verb: str, result: object) -> None:
        if isinstance(result, LibraryError):  # refused: a later change would be overwritten
            self.status(str(result))
            return
        op, changes = result  # type: ignore[misc]
        nothing = "Nothing of this desk's to " + ("undo" if verb == "Undid" else "redo")
        self.status(f"{verb}: {op.label}" if op else nothing)
        # Select what it brought back (an unarchived paper), not the neighbour that took its row.
        if op and not self.selection.select_first_listed(changes.papers):
            self.selection.after_reload = tuple(changes.papers)  # a search view lists it once re-run

