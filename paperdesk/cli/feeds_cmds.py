"""`paperdesk feeds ...`: subscriptions, refresh (for cron), health, OPML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paperdesk.cli.output import (
    CommandError,
    one_line,
    open_library,
    print_json,
    progress_line,
    terminal_text,
)

MAX_OPML_BYTES = 5 * 1024 * 1024  # a subscription list of thousands of feeds is well under 1 MB


def register(sub: argparse._SubParsersAction) -> None:
    feeds = sub.add_parser("feeds", help="feed subscriptions: add, list, refresh, OPML")
    fsub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    p = fsub.add_parser("add", help="subscribe to a feed URL, a page that links one, or a digest folder")
    p.add_argument("url", metavar="URL")
    p.add_argument("--name", metavar="N", help="display name (default: the feed's title)")
    p.add_argument("--every", type=_interval, metavar="INTERVAL", help="refresh interval, e.g. 30m, 6h, 1d")
    p.add_argument("--group", default="", metavar="G", help='folder, e.g. "Science/Physics"')
    p.add_argument("--no-check", action="store_true", help="do not fetch the URL before adding it")
    p.set_defaults(func=cmd_add)

    p = fsub.add_parser("list", help="subscriptions and their health")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = fsub.add_parser("refresh", help="fetch due feeds (or the given ones) and import new papers")
    p.add_argument("ids", nargs="*", type=_feed_id, metavar="ID")
    p.add_argument("--all", action="store_true", help="refresh every active feed, due or not")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_refresh)

    p = fsub.add_parser("rm", help="unsubscribe (papers stay in the library)")
    p.add_argument("id", type=_feed_id, metavar="ID")
    p.set_defaults(func=cmd_rm)

    p = fsub.add_parser("rename", help="rename a feed")
    p.add_argument("id", type=_feed_id, metavar="ID")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_rename)

    p = fsub.add_parser("interval", help="set how often a feed is refreshed")
    p.add_argument("id", type=_feed_id, metavar="ID")
    p.add_argument("every", type=_interval, metavar="INTERVAL")
    p.set_defaults(func=cmd_interval)

    for name in ("pause", "resume"):
        p = fsub.add_parser(name, help=f"{name} refreshing a feed")
        p.add_argument("id", type=_feed_id, metavar="ID")
        p.set_defaults(func=cmd_pause, paused=name == "pause")

    p = fsub.add_parser("import-opml", help="subscribe to the feeds of an OPML file")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_import_opml)

    p = fsub.add_parser("export-opml", help="write subscriptions as OPML (to stdout without FILE)")
    p.add_argument("file", nargs="?", metavar="FILE")
    p.set_defaults(func=cmd_export_opml)


def _feed_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a feed id: {text!r} (see `paperdesk feeds list`)")
    return int(text)


def _interval(text: str) -> int:
    from paperdesk.core.feeds.subscriptions import FeedError, parse_interval

    try:
        return parse_interval(text)
    except FeedError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_add(args: argparse.Namespace) -> int:
    from paperdesk.core.feeds.discover import ProbeError, probe
    from paperdesk.core.feeds.subscriptions import DEFAULT_EVERY, normalize_url

    with open_library(args) as lib:
        url = normalize_url(args.url)
        name = args.name
        if not url.startswith("file:") and not args.no_check:
            try:
                found = probe(url)
            except ProbeError as exc:
                raise CommandError(f"{exc} (use --no-check to add it anyway)") from None
            url, name = found.url, name or found.title
        feed = lib.feeds.add(url, name, group=args.group, every_seconds=args.every or DEFAULT_EVERY)
        print(f"added feed {feed.id}: {feed.name} ({feed.url})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from paperdesk.core.feeds.subscriptions import format_interval

    with open_library(args) as lib:
        feeds = lib.feeds.all()
        if args.json:
            print_json([f.to_json() for f in feeds])
            return 0
        if not feeds:
            print("no feeds (add one with `paperdesk feeds add URL`)")
        for f in feeds:
            group = f"[{f.feed_group}] " if f.feed_group else ""
            print(f"{f.id:>4} {f.health:<7} every {format_interval(f.every_seconds):<4} "
                  f"{f.items_seen:>4} items  {group}{one_line(f.name, 60)}")
            detail = f"     {terminal_text(f.url)}"
            if f.last_success:
                detail += f"  · last ok {f.last_success}"
            if f.next_refresh and not f.paused:
                detail += f"  · next {f.next_refresh}"
            print(detail)
            if f.last_error:
                print(f"     last error ({f.failures}x): {one_line(f.last_error, 500)}")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from paperdesk.core.feeds.refresh import refresh_feeds

    with open_library(args) as lib:
        ids = args.ids or None
        with progress_line(not args.json) as progress:
            results = refresh_feeds(lib, ids, due_only=not (ids or args.all), progress=progress)
        if args.json:
            print_json([r.to_json() for r in results])
        else:
            if not results:
                print("no feed is due (use --all to refresh every feed)")
            for r in results:
                line = f"{r.feed_id:>4} {r.status:<12} {one_line(r.name, 40)}: {one_line(r.summary(), 500)}"
                print(line, file=sys.stderr if r.status == "error" else sys.stdout)
            if len(results) > 1:
                new = sum(r.new for r in results)
                failed = sum(r.status == "error" for r in results)
                print(f"{len(results)} feeds refreshed: {new} new papers, {failed} failed")
    return 1 if any(r.status == "error" for r in results) else 0


def cmd_rm(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        feed = lib.feeds.remove(args.id)
        print(f"removed feed {feed.id}: {feed.name} (its papers stay; `paperdesk undo` brings it back)")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        feed = lib.feeds.rename(args.id, args.name)
        print(f"renamed feed {feed.id}: {feed.name}")
    return 0


def cmd_interval(args: argparse.Namespace) -> int:
    from paperdesk.core.feeds.subscriptions import format_interval

    with open_library(args) as lib:
        feed = lib.feeds.set_interval(args.id, args.every)
        print(f"feed {feed.id} refreshes every {format_interval(feed.every_seconds)}")
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        feed = lib.feeds.set_paused(args.id, args.paused)
        print(f"{'paused' if feed.paused else 'resumed'} feed {feed.id}: {feed.name}")
    return 0


def cmd_import_opml(args: argparse.Namespace) -> int:
    from paperdesk.core.records import RejectedInput
    from paperdesk.core.textfile import read_regular_file

    try:
        data = read_regular_file(Path(args.file), MAX_OPML_BYTES, "OPML files")
    except RejectedInput as exc:
        raise CommandError(f"cannot read {args.file}: {exc}") from None
    with open_library(args) as lib:
        try:
            report = lib.feeds.import_opml(data)
        except RejectedInput as exc:
            raise CommandError(f"{args.file}: {exc}") from None
        print(f"added {len(report.added)} feeds, {len(report.already)} already subscribed")
    return 0


def cmd_export_opml(args: argparse.Namespace) -> int:
    with open_library(args) as lib:
        data = lib.feeds.export_opml()
    if args.file:
        try:
            Path(args.file).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"cannot write {args.file}: {exc.strerror}") from None
        print(f"wrote {args.file}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0
