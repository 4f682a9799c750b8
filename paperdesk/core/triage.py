"""A triage session: walk a digest or the Inbox paper by paper, and sum up what was done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from paperdesk.core.library import Library

ACTIONS = ("keep", "skip", "archive")


@dataclass
class TriageSummary:
    total: int
    seen: int
    kept: int
    skipped: int
    archived: int
    starred: list[str] = field(default_factory=list)
    tagged: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)

    def text(self) -> str:
        return (f"{self.seen} / {self.total} papers triaged: {self.kept} kept, {self.archived} archived, "
                f"{self.skipped} skipped; {len(self.starred)} starred, {len(self.tagged)} tagged, "
                f"{len(self.noted)} noted")


class TriageSession:
    """Position and decisions over a fixed list of paper ids (the list does not shift under you)."""

    def __init__(self, lib: Library, ids: Sequence[str], name: str = "Inbox"):
        self.lib = lib
        # A list is copied (its owner may change it); another sequence (the desk's tuple or packed
        # list of a view, a million ids at scale) is kept as it is, never turned into a list.
        self.ids: Sequence[str] = tuple(ids) if isinstance(ids, list) else ids
        self.name = name
        self.position = 0
        self.decisions: dict[str, str] = {}
        self._start_op = lib.conn.execute("SELECT coalesce(max(id), 0) FROM operations").fetchone()[0]

    @property
    def current(self) -> str | None:
        return self.ids[self.position] if self.position < len(self.ids) else None

    @property
    def done(self) -> bool:
        return self.position >= len(self.ids)

    def progress(self) -> str:
        return f"{min(self.position + 1, len(self.ids))} / {len(self.ids)}"

    def decide(self, action: str) -> str | None:
        """Apply keep/skip/archive to the current paper and move on; returns the next id."""
        if action not in ACTIONS:
            raise ValueError(f"unknown triage action {action!r}")
        pid = self.current
        if pid is None:
            return None
        if action == "archive":
            self.lib.archive([pid])
        self.decisions[pid] = action
        self.position += 1
        return self.current

    def back(self) -> str | None:
        self.position = max(0, self.position - 1)
        return self.current

    def summary(self) -> TriageSummary:
        """What happened to the session's papers since it started (from the operation log); one
        pass over the session's list finds the papers the log names (no set of the whole list)."""
        touched: dict[str, set[str]] = {"star": set(), "tag": set(), "note": set()}
        rows = self.lib.conn.execute(
            "SELECT o.kind, r.tbl, r.key FROM operations o JOIN op_rows r ON r.op_id = o.id "
            "WHERE o.id > ? AND o.undone = 0", (self._start_op,)).fetchall()
        named = {key.split('"')[1] for _kind, _table, key in rows if '"' in key}
        place = {pid: n for n, pid in enumerate(self.ids) if pid in named}  # (one pass)
        for kind, table, key in rows:
            pid = key.split('"')[1] if '"' in key else None
            if pid not in place:
                continue
            if kind == "star":
                touched["star"].add(pid)
            elif table == "tags":
                touched["tag"].add(pid)
            elif table == "notes":
                touched["note"].add(pid)

        def in_order(found: set[str]) -> list[str]:  # as the session lists them
            return sorted(found, key=place.__getitem__)

        starred = [p for p in in_order(touched["star"]) if (self.lib.get(p) or {}).get("starred")]
        values = list(self.decisions.values())
        return TriageSummary(
            total=len(self.ids), seen=len(self.decisions), kept=values.count("keep"),
            skipped=values.count("skip"), archived=values.count("archive"), starred=starred,
            tagged=in_order(touched["tag"]), noted=in_order(touched["note"]),
        )
