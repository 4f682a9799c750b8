"""`paperdesk gui`: open the desk (Qt is imported only here, and only when asked for)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desk (the default without a command)")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="render the window at a fixed size, save it as PNG and exit")
    p.set_defaults(func=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    from paperdesk.gui.app import run

    return run(args)
