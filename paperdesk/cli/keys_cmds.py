"""`paperdesk keys`: the active key bindings (defaults plus the user's keys.toml)."""

from __future__ import annotations

import argparse
import sys

from paperdesk.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="print the active key bindings")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="print the cheat sheet as Markdown")
    p.set_defaults(func=cmd_keys)


def cmd_keys(args: argparse.Namespace) -> int:
    from paperdesk.core.keymap import cheat_sheet_markdown, load_keymap, user_keymap_path

    keymap = load_keymap(user_keymap_path())
    for problem in keymap.problems:
        print(f"paperdesk: {problem}", file=sys.stderr)
    if args.markdown:
        print(cheat_sheet_markdown(keymap))
    elif args.json:
        print_json([{"mode": b.mode, "keys": b.keys, "command": b.command,
                     "description": b.description} for b in keymap.all()])
    else:
        for b in keymap.all():
            print(f"{b.mode:<8} {b.keys:<14} {b.command:<13} {b.description}")
    return 0
