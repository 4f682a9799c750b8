"""What an export did (or, in a dry run, would do), file by file, with reasons for what it skipped."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from paperdesk.core.words import count_of


class ExportError(Exception):
    """The export cannot run at all (bad folder, template, option); the message is for the user."""


@dataclass
class ExportItem:
    file: str  # file name inside the export folder (or the BibTeX path)
    paper_id: str | None = None
    action: str = ""  # created | updated | unchanged | skipped | create | update (dry run)
    reason: str = ""  # why a file was skipped
    changed: list[str] = field(default_factory=list)  # managed blocks / front-matter keys that change
    conflicts: list[str] = field(default_factory=list)  # edits kept although the library changed too

    def describe(self) -> str:
        text = f"{self.action}: {self.file}"
        if self.reason:
            text += f": {self.reason}"
        elif self.changed:
            text += f" ({', '.join(self.changed)})"
        return text


LISTED = 1000  # items of each kind (and warnings) a report keeps; its counts count them all
KIND_OF = {"created": "written", "updated": "written", "create": "would_change", "update": "would_change",
           "unchanged": "unchanged", "skipped": "skipped"}  # an item's action -> the list keeping it


@dataclass
class ExportReport:
    """What an export did: a count of each kind of file, and the first LISTED items of each kind
    (a million-paper export keeps a thousand items, not a million)."""

    folder: str
    dry_run: bool = False
    written: list[ExportItem] = field(default_factory=list)
    unchanged: list[ExportItem] = field(default_factory=list)
    skipped: list[ExportItem] = field(default_factory=list)  # left alone, each with its reason
    would_change: list[ExportItem] = field(default_factory=list)  # dry run: create/update
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("created", "updated", "unchanged", "skipped", "would_change", "warnings"), 0))
    cancelled: bool = False

    def add(self, item: ExportItem) -> None:
        """Count `item` by its action, and keep it if fewer than LISTED of its kind are kept."""
        kind = KIND_OF[item.action]
        self.counts[item.action if kind == "written" else kind] += 1
        kept: list[ExportItem] = getattr(self, kind)
        if len(kept) < LISTED:
            kept.append(item)

    def warn(self, text: str) -> None:
        self.counts["warnings"] += 1
        if len(self.warnings) < LISTED:
            self.warnings.append(text)

    def count(self, kind: str) -> int:
        """How many items of `kind` ("written", "skipped", …, "warnings") there were, kept or not."""
        if kind == "written":
            return self.counts["created"] + self.counts["updated"]
        return self.counts[kind]

    def unlisted(self, kind: str) -> int:
        """How many items of `kind` were counted but not kept (beyond LISTED)."""
        return self.count(kind) - len(getattr(self, kind))

    @property
    def ok(self) -> bool:
        return not self.counts["skipped"]

    def summary(self) -> str:
        counts = self.counts
        if self.dry_run:
            text = f"dry run: {counts['would_change']} files would change, {counts['unchanged']} unchanged"
        else:
            text = (f"{counts['created']} created, {counts['updated']} updated, "
                    f"{counts['unchanged']} unchanged")
        if counts["skipped"]:
            text += f", {counts['skipped']} left alone (see above)"
        if self.cancelled:
            text += "; cancelled"
        return f"{text} in {self.folder}"

    def to_json(self) -> dict:
        return {**asdict(self), "ok": self.ok}


@dataclass
class BibtexReport:
    path: str
    entries: int = 0
    keys: dict[str, str] = field(default_factory=dict)  # paper id -> citation key
    written: bool = False  # False when the file already had exactly this content
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        entries = count_of(self.entries, "entry", "entries")
        if self.written:
            return f"wrote {entries} to {self.path}"
        these = "this entry" if self.entries == 1 else f"these {entries}"
        return f"{self.path} already holds {these}"

    def to_json(self) -> dict:
        return asdict(self)
