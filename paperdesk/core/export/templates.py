"""Jinja2 templates for Markdown export: the shipped defaults and the user's own, sandboxed.

A template only produces text. It never chooses a file name or a path, cannot include other files
(the environment has no loader) and runs in Jinja2's SandboxedEnvironment, so a template copied
from somewhere cannot reach Python internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paperdesk.core.export.data import nest_headings, tag_name
from paperdesk.core.paths import config_dir, resources_dir

if TYPE_CHECKING:
    import jinja2

DEFAULTS = {"paper": "paper.md.j2", "list": "reading-list.md.j2"}
SUFFIXES = ("", ".md.j2", ".j2", ".md")
MAX_TEMPLATE_BYTES = 1024 * 1024


class TemplateProblem(Exception):
    """A template cannot be found, read, compiled or rendered; the message is for the user."""


@dataclass
class LoadedTemplate:
    name: str  # what the user gave, or the default's file name
    path: Path
    template: jinja2.Template | None  # compiled here for the shipped defaults only
    source: str = ""
    shipped: bool = True  # one of PaperDesk's own defaults (rendered here, not in a child process)

    def render(self, **context: object) -> str:
        import jinja2

        assert self.template is not None, "a user's template renders through render_many"
        try:
            text = self.template.render(**context)
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" line {line}" if line else ""
            raise TemplateProblem(f"template {self.name}{where}: {exc}") from None
        return text if text.endswith("\n") else text + "\n"

    def render_many(self, contexts: list[dict], cancelled: Callable[[], bool] | None = None) -> list[str]:
        """One text per context. A user's template runs in a child process with limits on time,
        memory and output (template_limits.py): one that loops for ever or eats memory is stopped
        with a TemplateProblem instead of hanging or swapping the export."""
        if self.shipped or not contexts:
            return [self.render(**c) for c in contexts]
        from paperdesk.core.export.template_limits import render_limited

        return render_limited(self.source, self.name, contexts, cancelled)


def user_templates_dir() -> Path:
    return config_dir() / "templates"


def find_template(spec: str | Path | None, kind: str) -> Path:
    """The template file for `spec`: None = the shipped default for `kind`; a name is looked up in the
    user's templates folder (with or without .md.j2), anything else is a path."""
    if spec is None or str(spec) == "":
        return resources_dir() / "templates" / DEFAULTS[kind]
    path = Path(spec).expanduser()
    candidates = []
    if path.parent == Path(".") and not path.is_absolute():
        candidates += [user_templates_dir() / f"{path.name}{s}" for s in SUFFIXES]
        candidates += [resources_dir() / "templates" / f"{path.name}{s}" for s in SUFFIXES]
    candidates.append(path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise TemplateProblem(f"no template {spec!r} (looked in {user_templates_dir()} and at that path)")


def load_template(spec: str | Path | None, kind: str) -> LoadedTemplate:
    path = find_template(spec, kind)
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise TemplateProblem(f"template {path} is larger than 1 MB")
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateProblem(f"cannot read template {path}: {exc}") from None
    name = str(spec) if spec else path.name
    if path.parent.resolve() == (resources_dir() / "templates").resolve():
        return LoadedTemplate(name, path, compile_template(source, str(path)), source, shipped=True)
    # A user's template is only parsed here: compiling folds constants ("x" * 10**10 included),
    # so it is compiled in the limited child process (template_limits.py).
    try:
        _environment().parse(source)
    except _syntax_error() as exc:
        raise TemplateProblem(f"template {path} line {exc.lineno}: {exc.message}") from None
    return LoadedTemplate(name, path, None, source, shipped=False)


def _syntax_error() -> type[Exception]:  # jinja2 loads lazily
    from jinja2 import TemplateSyntaxError

    return TemplateSyntaxError


def _environment() -> jinja2.Environment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.globals.pop("lipsum", None)  # lipsum(n=10**9) would write text without end
    env.filters["blockquote"] = blockquote
    env.filters["tag"] = obsidian_tag
    env.filters["nest_headings"] = nest_headings
    return env


def compile_template(source: str, where: str) -> jinja2.Template:
    try:
        return _environment().from_string(source)
    except _syntax_error() as exc:
        raise TemplateProblem(f"template {where} line {exc.lineno}: {exc.message}") from None


def blockquote(text: str) -> str:
    """Text as a Markdown quote, every line prefixed so a multi-line quote stays one quote."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in str(text).splitlines() or [""])


def obsidian_tag(tag: str) -> str:
    """`#tag` as Obsidian reads it: no spaces, nothing that ends a tag (`multi word` -> `#multi-word`)."""
    cleaned = tag_name(tag)
    return f"#{cleaned}" if cleaned else ""
