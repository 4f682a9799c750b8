"""The small "what changed" value every library operation returns (as in Anki's OpChanges)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Changes:
    papers: frozenset[str] = field(default_factory=frozenset)  # ids whose row changed
    added: frozenset[str] = field(default_factory=frozenset)  # ids that are new
    removed: frozenset[str] = field(default_factory=frozenset)  # ids that are gone
    tags: bool = False  # the set of tags or their counts changed
    sources: bool = False  # digests or feeds changed
    notes: bool = False
    saved_searches: bool = False
    # Another process's operation too big to list (a snapshot import): any paper may have changed,
    # as may tags, notes and sources (their flags are set too). Listeners re-read what they show.
    everything: bool = False

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __or__(self, other: Changes) -> Changes:  # sets joined, flags or-ed: every field the same way
        return Changes(**{f.name: getattr(self, f.name) | getattr(other, f.name) for f in fields(self)})
