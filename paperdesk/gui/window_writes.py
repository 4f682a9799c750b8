"""The desk's changes to papers: star, tag, archive, marks. Every write goes to the one writer
thread as a job (`write`); its `Changes` come back to `_on_changes`, which repaints, and the
writer has the search index follow.

A mixin of `MainWindow` (it reads the window's library, list, marks and status bar).
"""

from __future__ import annotations

from collections.abc import Callable

from paperdesk.core import Library, quick_tags
from paperdesk.core.library import LibraryError, check_tag_lengths


class WriteCommands:
    # -- writes -------------------------------------------------------------------------------
    def write(self, label: str, fn: Callable[[Library], object],
              done: Callable[[object], None] | None = None) -> None:
        """Queue a small change on the writer (one signal hop when it is idle); `done(result)`
        runs here afterwards. A refusal (LibraryError) becomes a status line."""
        self.jobs.run(label, lambda lib, _p, _c: fn(lib), on_success=done, quiet=True)

    def mark_read(self, ids: list[str]) -> None:
        self.write("Mark read", lambda lib: lib.mark_read(ids), lambda _r: self.model.refresh_rows(set(ids)))

    def _decided_in_triage(self, ids: list[str], bulk: bool) -> None:
        """Starring or tagging in a triage session is a decision on the paper: it is read now, and
        the session moves on (kept), as `e` does; marked papers are only marked read."""
        if self.triage is None:
            return
        if bulk:
            self.mark_read(ids)
        else:
            self.triage.decide("keep")  # marks the paper read

    def targets(self) -> list[str]:
        """What a paper command acts on: the marked papers if any, else the selection / current paper."""
        return sorted(self.marked) if self.marked else self.selected_ids()

    def _bulk_done(self, ids: list[str]) -> None:
        if self.marked and set(ids) == self.marked:
            self.clear_marks()

    def toggle_star(self) -> None:
        ids, bulk = self.targets(), bool(self.marked)
        if not ids:
            return
        what = self._papers_text(ids)

        def star(lib: Library) -> bool:
            # Decided on the writer, from the stored state: two quick presses star, then unstar
            # (decided here, both would read the state before the first was stored).
            starred = not all(r["starred"] for r in lib.rows(ids))
            lib.star(ids, starred)  # one operation: one undo step
            return starred

        self.write("Star", star, lambda on: self.status(f"{'Starred' if on else 'Unstarred'} {what}"))
        self._bulk_done(ids)
        self._decided_in_triage(ids, bulk)

    def _papers_text(self, ids: list[str]) -> str:
        """A status message's object: the paper's shortened title, or how many papers."""
        return self.lib.paper_label(ids[0]) if len(ids) == 1 else f"{len(ids)} papers"

    def tag_targets(self, tags: list[str], keys: dict[str, int] | None = None) -> None:
        """Tag the targets; a tag without a quick key takes the first free one (`keys`: given ones)."""
        ids, bulk = self.targets(), bool(self.marked)
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

        self.write("Tag", tag)
        self.status(f"Tagged {self._papers_text(ids)} #{' #'.join(tags)}")
        self._bulk_done(ids)
        self._decided_in_triage(ids, bulk)

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
        from paperdesk.gui.tag_popup import TagPopup

        if not self.targets():
            return
        popup = TagPopup(self.tags_by_count(), self, quick_tags.quick_tags(self.lib))
        popup.chosen.connect(self.tag_targets)
        self.keys.watch(popup.field, "insert")
        self._open_dialog(popup)
        self.tag_popup = popup
        targets = self.targets()
        if len(targets) == 1:  # likely tags, from the tags' papers, on the ranker thread (gui/for_you.py)
            own = set((self.lib.get(targets[0]) or {}).get("tags") or [])
            tags = [t for t in self.tags_by_count() if t not in own]
            self.for_you.suggest(targets[0], tags,
                                 lambda likely: popup.set_likely(likely) if self.tag_popup is popup else None)

    def archive_next(self) -> None:
        """Archive the targets; the list then shows the next paper (in any view)."""
        ids = self.targets()
        if not ids:
            return
        if self.triage is not None and not self.marked:
            self.triage_decide("archive")
            return
        row = self.table.currentIndex().row()
        current = self.current_id()
        following = self._next_not_in(row, set(ids))  # found before the archived ones leave the list
        self.write("Archive", lambda lib: lib.archive(ids))
        self.status(f"Archived {self._papers_text(ids)} (u undoes)")
        self._bulk_done(ids)
        if following is not None and self.model.row_of(following) is not None:
            self.select_id(following)
        elif current is not None and self.model.row_of(current) == row:  # still listed: step on
            self.move_current(1)

    def _next_not_in(self, row: int, leaving: set[str]) -> str | None:
        """The first paper below `row` not in `leaving`, else the nearest one above it."""
        n = self.model.rowCount()
        for r in [*range(row + 1, n), *range(row - 1, -1, -1)]:
            pid = self.model.id_at(r)
            if pid is not None and pid not in leaving:
                return pid
        return None

    def move_to_inbox(self) -> None:
        ids = self.targets()
        if ids:
            self.write("Move to inbox", lambda lib: lib.set_status(ids, "inbox"))
            self._bulk_done(ids)

    # -- marks ----------------------------------------------------------------------------------
    def toggle_mark(self) -> None:
        pid = self.current_id()
        if pid is None:
            return
        self.marked.symmetric_difference_update({pid})
        self.model.refresh_rows({pid})
        self._update_marked()

    def clear_marks(self) -> None:
        shown = set(self.marked)
        self.marked.clear()
        self.model.refresh_rows(shown)
        self._update_marked()

    def _update_marked(self) -> None:
        n = len(self.marked)
        self.marked_label.setText(f"{n} marked" if n else "")
