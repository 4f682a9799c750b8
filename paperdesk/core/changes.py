"""The small "what changed" value every library operation returns (as in Anki's OpChanges)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    papers: frozenset[str] = field(default_factory=frozenset)  # ids whose row changed
    added: frozenset[str] = field(default_factory=frozenset)  # ids that are new
    removed: frozenset[str] = field(default_factory=frozenset)  # ids that are gone
    tags: bool = False  # the set of tags or their counts changed
    sources: bool = False  # digests or feeds changed
    notes: bool = False
    saved_searches: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.papers or self.added or self.removed or self.tags or self.sources
            or self.notes or self.saved_searches
        )

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            papers=self.papers | other.papers,
            added=self.added | other.added,
            removed=self.removed | other.removed,
            tags=self.tags or other.tags,
            sources=self.sources or other.sources,
            notes=self.notes or other.notes,
            saved_searches=self.saved_searches or other.saved_searches,
        )
