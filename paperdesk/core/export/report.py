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


@dataclass
class ExportReport:
    folder: str
    dry_run: bool = False
    written: list[ExportItem] = field(default_factory=list)
    unchanged: list[ExportItem] = field(default_factory=list)
    skipped: list[ExportItem] = field(default_factory=list)  # left alone, each with its reason
    would_change: list[ExportItem] = field(default_factory=list)  # dry run: create/update
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.skipped

    def summary(self) -> str:
        if self.dry_run:
            text = (f"dry run: {len(self.would_change)} files would change, "
                    f"{len(self.unchanged)} unchanged")
        else:
            created = sum(1 for i in self.written if i.action == "created")
            text = (f"{created} created, {len(self.written) - created} updated, "
                    f"{len(self.unchanged)} unchanged")
        if self.skipped:
            text += f", {len(self.skipped)} left alone (see above)"
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
