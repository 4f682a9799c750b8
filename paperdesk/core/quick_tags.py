"""Quick-tag keys: which tag `1`–`9` applies. Stable on purpose: a tag keeps its key whatever tags
are added later. A tag gets the first free key when the desk first applies it, or the key the user
gives it; the map is a small user setting in the library (`settings` table, as JSON)."""

from __future__ import annotations

import json

from paperdesk.core.library import Library

SETTING = "quick_tags"
KEYS = range(1, 10)


def quick_tags(lib: Library) -> dict[int, str]:
    """Key number -> tag."""
    try:
        raw = json.loads(lib.setting(SETTING) or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    found = {}
    for key, tag in raw.items():
        if str(key).isdigit() and int(key) in KEYS and isinstance(tag, str) and tag:
            found[int(key)] = tag
    return found


def _save(lib: Library, keys: dict[int, str]) -> None:
    lib.set_setting(SETTING, json.dumps({str(k): t for k, t in sorted(keys.items())}, ensure_ascii=False))


def set_quick_tag(lib: Library, number: int, tag: str) -> dict[int, str]:
    """Put `tag` on key `number` (taking it off any other key; "" frees the key)."""
    if number not in KEYS:
        raise ValueError(f"quick-tag keys are 1-9, not {number}")
    keys = {k: t for k, t in quick_tags(lib).items() if t != tag and k != number}
    if tag:
        keys[number] = tag
    _save(lib, keys)
    return keys


def assign(lib: Library, tags: list[str]) -> dict[int, str]:
    """Give each of `tags` without a key the first free key (while keys are free)."""
    keys = quick_tags(lib)
    given = set(keys.values())
    free = [k for k in KEYS if k not in keys]
    changed = False
    for tag in tags:
        if tag not in given and free:
            keys[free.pop(0)] = tag
            given.add(tag)
            changed = True
    if changed:
        _save(lib, keys)
    return keys
