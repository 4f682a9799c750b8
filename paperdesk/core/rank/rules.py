"""Rules: a saved query plus actions (tag, star, archive, mark read) that triage for the user.

A rule applies by itself to papers imported after it was made (each run remembers the newest paper
it has seen, by rowid), or to the Inbox on demand after a preview. Every action of a run is one
undoable operation whose label names the rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paperdesk.core import ops
from paperdesk.core.changes import Changes
from paperdesk.core.limits import MAX_TAG_CHARS, printable
from paperdesk.core.search import querylang as ql
from paperdesk.core.store import enqueue_index
from paperdesk.core.timeutil import now_iso, today

if TYPE_CHECKING:
    from paperdesk.core.library import Library

ACTIONS = ("tag", "star", "archive", "read")
MAX_NAME_CHARS = 80  # a rule's name: a list line, an undo label
MAX_QUERY_CHARS = 1000  # a rule's query (a long search is a few hundred)


class RuleError(ValueError):
    pass


@dataclass
class Rule:
    name: str
    query: str
    actions: list[dict]   # {"do": "tag", "tag": "rl"} | {"do": "star"} | {"do": "archive"} | {"do": "read"}
    last_rowid: int = 0

    def describe_actions(self) -> str:
        return ", ".join(f"tag #{a['tag']}" if a["do"] == "tag" else a["do"] for a in self.actions)


def check_name(name: str) -> str:
    """The rule's name as stored: one line, spaces collapsed; refused when empty or too long."""
    name = " ".join(printable(name or "", single_line=True).split())
    if not name:
        raise RuleError("a rule needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise RuleError(f"a rule's name is at most {MAX_NAME_CHARS} characters (this one has {len(name)})")
    return name


def check_query(query: str) -> str:
    """The query as stored; refused with the query language's own message when it is bad."""
    query = printable(query or "", single_line=True).strip()
    if not query:
        raise RuleError("a rule needs a query")
    if len(query) > MAX_QUERY_CHARS:
        raise RuleError(f"a rule's query is at most {MAX_QUERY_CHARS} characters (this one has {len(query)})")
    parsed = ql.parse(query, today=today(), typing=False)
    if parsed.problems:
        raise RuleError(f"cannot use query {query!r}: {'; '.join(parsed.problems)}")
    if parsed.root is None:
        raise RuleError(f"query {query!r} matches every paper: a rule needs something to match")
    return query


def make_actions(tags: Sequence[str] = (), star: bool = False, archive: bool = False,
                 read: bool = False) -> list[dict]:
    actions = [{"do": "tag", "tag": check_tag(t)} for t in tags if clean_tag(t)]
    actions += [{"do": name} for name, on in (("star", star), ("archive", archive), ("read", read)) if on]
    if not actions:
        raise RuleError("a rule needs an action (--tag T, --star, --archive or --read)")
    return list({json.dumps(a, sort_keys=True): a for a in actions}.values())  # each once


def clean_tag(tag: object) -> str:
    """A tag as `Library.tag` stores it: one line, spaces collapsed, no leading '#'."""
    if not isinstance(tag, str):
        return ""
    return " ".join(printable(tag, single_line=True).split()).lstrip("#").strip()


def check_tag(tag: object) -> str:
    cleaned = clean_tag(tag)
    if not cleaned:
        raise RuleError("a rule's tag cannot be empty")
    if len(cleaned) > MAX_TAG_CHARS:
        raise RuleError(f"a tag is at most {MAX_TAG_CHARS} characters (this one has {len(cleaned)})")
    return cleaned


def _check_actions(actions: Sequence[dict]) -> None:
    if not actions:
        raise RuleError("a rule needs an action (--tag T, --star, --archive or --read)")
    for a in actions:
        if not isinstance(a, dict) or a.get("do") not in ACTIONS:
            raise RuleError(f"unknown rule action {a!r} (use {', '.join(ACTIONS)})")
        if a["do"] == "tag" and (not clean_tag(a.get("tag")) or check_tag(a["tag"]) != a["tag"]):
            raise RuleError(f"a tag action needs a tag as Library.tag stores it, not {a.get('tag')!r}")


def list_rules(lib: Library) -> list[Rule]:
    return [Rule(n, q, json.loads(a), r) for n, q, a, r in lib.conn.execute(
        "SELECT name, query, actions, last_rowid FROM rules ORDER BY name")]


def get_rule(lib: Library, name: str) -> Rule:
    for rule in list_rules(lib):
        if rule.name == name:
            return rule
    raise RuleError(f"no rule named {name!r}")


def add_rule(lib: Library, name: str, query: str, actions: list[dict]) -> Changes:
    name = check_name(name)
    query = check_query(query)
    _check_actions(actions)
    with lib.operation("rule", f"Save rule {name}") as rec:
        rec.touch("rules", [name])
        newest = lib.conn.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0]
        lib.conn.execute(
            "INSERT INTO rules (name, query, actions, last_rowid, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET query = excluded.query, actions = excluded.actions",
            (name, query, json.dumps(actions), newest, now_iso()))
    return Changes(saved_searches=True)


def remove_rule(lib: Library, name: str) -> Changes:
    get_rule(lib, name)
    with lib.operation("rule", f"Remove rule {name}") as rec:
        rec.touch("rules", [name])
        lib.conn.execute("DELETE FROM rules WHERE name = ?", (name,))
    return Changes(saved_searches=True)


def matches(lib: Library, rule: Rule, *, inbox_only: bool = True, drain: bool = True) -> list[str]:
    """The papers the rule's query finds (in the Inbox unless told otherwise). `drain=False` on a
    read-only connection (the desk's reader thread: indexing is the writer's job)."""
    query = f"({rule.query}) is:inbox" if inbox_only else rule.query
    return [hit.id for hit in lib.search.run(query, limit=None, typing=False, drain=drain).hits]


def behind(lib: Library) -> bool:
    """Whether some rule has not seen the newest papers yet (cheap: `apply_to_new` has work)."""
    return lib.conn.execute("SELECT 1 FROM rules WHERE last_rowid < (SELECT coalesce(max(rowid), 0) "
                            "FROM papers) LIMIT 1").fetchone() is not None


def apply(lib: Library, rule: Rule, ids: Sequence[str]) -> Changes:
    """Do the rule's actions to these papers: one undoable operation per action."""
    changes = Changes()
    if not ids:
        return changes
    for action in rule.actions:
        label = f"Rule {rule.name}: "
        if action["do"] == "tag":
            changes |= lib.tag(ids, [action["tag"]], label=label + f"tag #{action['tag']}")
        elif action["do"] == "star":
            changes |= lib.star(ids, label=label + "star")
        elif action["do"] == "archive":
            changes |= lib.set_status(ids, "archived", label=label + "archive")
        elif action["do"] == "read":
            changes |= _mark_read(lib, ids, label + "mark read")
    return changes


def _mark_read(lib: Library, ids: Sequence[str], label: str) -> Changes:
    """Marked read as one undoable operation (the reader's own `mark_read` is display state, not
    a step in the history): undoing the rule undoes all it did."""
    changed: list[str] = []
    with lib.operation("read", label) as rec:
        for pid in ids:
            row = ops.fetch_row(lib.conn, "papers", [pid])
            if row is None or row["is_read"] == 1:
                continue
            rec.touch("papers", [pid], row, columns=("is_read",))
            lib.conn.execute("UPDATE papers SET is_read = 1 WHERE id = ?", (pid,))
            changed.append(pid)
        enqueue_index(lib.conn, changed)
        rec.changed(Changes(papers=frozenset(changed)))
    return rec.changes


def apply_to_new(lib: Library) -> dict[str, int]:
    """Run every rule on the papers imported since its last run; {rule name: papers acted on}."""
    done: dict[str, int] = {}
    rules = list_rules(lib)
    if not rules:
        return done
    newest = lib.conn.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0]
    for rule in rules:
        if rule.last_rowid >= newest:
            continue
        fresh = {pid for (pid,) in lib.conn.execute(
            "SELECT id FROM papers WHERE rowid > ?", (rule.last_rowid,))}
        ids = [pid for pid in matches(lib, rule, inbox_only=False) if pid in fresh]
        apply(lib, rule, ids)
        with lib.transaction() as conn:
            conn.execute("UPDATE rules SET last_rowid = ? WHERE name = ?", (newest, rule.name))
        if ids:
            done[rule.name] = len(ids)
    return done
