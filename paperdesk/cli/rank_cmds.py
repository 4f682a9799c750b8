"""Ranking and rules: `paperdesk rank`, `paperdesk rules add|list|run|rm`."""

from __future__ import annotations

import argparse
import sys

from paperdesk.cli.output import CommandError, one_line, open_library, positive_int, print_json, progress_line


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rank", help="the Inbox (or a query) ordered by what you keep")
    p.add_argument("--tag", metavar="T", help="rank by the model of one tag (papers like my #T ones)")
    p.add_argument("--query", metavar="Q", default="is:inbox",
                   help="which papers to rank (a search query; default: is:inbox)")
    p.add_argument("--limit", type=positive_int, default=20, metavar="N")
    p.add_argument("--explain", metavar="ID", help="why this paper scores as it does, and the "
                   "model's strongest words")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rank)

    rules = sub.add_parser("rules", help="saved queries with actions that triage for you")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")
    p = rsub.add_parser("add", help="add or replace a rule (applies to papers imported from now on)")
    p.add_argument("name")
    p.add_argument("query")
    p.add_argument("--tag", action="append", default=[], metavar="T", help="tag matching papers")
    p.add_argument("--star", action="store_true")
    p.add_argument("--archive", action="store_true")
    p.add_argument("--read", action="store_true", help="mark matching papers read")
    p.set_defaults(func=cmd_rules_add)
    p = rsub.add_parser("list", help="list rules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_list)
    p = rsub.add_parser("run", help="apply a rule to the current Inbox")
    p.add_argument("name")
    p.add_argument("--dry-run", action="store_true", help="only show what the rule would do")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rules_run)
    p = rsub.add_parser("rm", help="remove a rule")
    p.add_argument("name")
    p.set_defaults(func=cmd_rules_rm)


def cmd_rank(args: argparse.Namespace) -> int:
    from paperdesk.core.rank.model import format_reasons

    with open_library(args) as lib:
        ranker = lib.ranker
        with progress_line() as progress:
            ranker.refresh(progress)  # features for new papers
        if args.explain:
            record = lib.get(args.explain)
            if record is None:
                raise CommandError(f"no paper with id {args.explain}")
            reasons = ranker.explain(record, args.tag)
            score = float(ranker.scores([record["id"]], args.tag)[0])
            ups, downs = ranker.words(args.tag)
            model = ranker.model(args.tag)
            if args.json:
                print_json({"id": record["id"], "score": score, "model": model.describe(),
                            "reasons": _weights(reasons), "model_positive": _weights(ups),
                            "model_negative": _weights(downs)})
                return 0
            print(one_line(record["title"], 100))
            print(f"score {score:.2f}: {format_reasons(reasons) or 'no telling words'}")
            print(model.describe())
            if ups or downs:
                print("model's strongest words: " + format_reasons(ups + downs))
            return 0
        # The search lists the query's papers and ranks them (a later sort: wins over the query's).
        result = lib.search.run(f"{args.query} sort:interest", limit=args.limit, typing=False, tag=args.tag)
        ids = [h.id for h in result.hits]
        if args.json:
            # As `search --json` (same keys, same per-paper fields), plus why each paper ranks there.
            records = {r["id"]: r for r in lib.records(ids)}
            hits = []
            for hit in result.hits:
                reasons = ranker.explain(records[hit.id], args.tag)
                hits.append({**records[hit.id], "score": hit.score, "snippet": hit.snippet,
                             "explanation": format_reasons(reasons),
                             "reasons": _weights(reasons)})
            print_json({"query": args.query, "total": result.total, "sort": "interest",
                        "problems": result.problems, "suggestion": result.suggestion,
                        "tag": args.tag, "model": result.ranking, "hits": hits})
            return 0
        for problem in result.problems:
            print(f"paperdesk: note: {problem}", file=sys.stderr)
        print(result.ranking, file=sys.stderr)
        rows = {r["id"]: r for r in lib.rows(ids)}
        for hit in result.hits:
            print(f"{hit.score:7.2f}  {hit.id:<16} {one_line(rows[hit.id]['title'], 90)}")
    return 0


def _weights(reasons: list) -> list[dict]:
    return [{"feature": r.name, "weight": r.weight} for r in reasons]


def cmd_rules_add(args: argparse.Namespace) -> int:
    from paperdesk.core.rank import rules

    with open_library(args, rules.RuleError) as lib:
        actions = rules.make_actions(args.tag, args.star, args.archive, args.read)
        rules.add_rule(lib, args.name, args.query, actions)
        rule = rules.get_rule(lib, rules.check_name(args.name))
        print(f"rule {rule.name!r}: {rule.query} → {rule.describe_actions()} "
              f"(papers imported from now on; `paperdesk rules run {rule.name}` for the Inbox)")
    return 0


def cmd_rules_list(args: argparse.Namespace) -> int:
    from paperdesk.core.rank import rules

    with open_library(args) as lib:
        found = rules.list_rules(lib)
        if args.json:
            print_json([{"name": r.name, "query": r.query, "actions": r.actions} for r in found])
            return 0
        for r in found:
            print(f"{r.name}: {r.query} → {r.describe_actions()}")
        if not found:
            print("no rules (add one with `paperdesk rules add NAME QUERY --tag T`)")
    return 0


def cmd_rules_run(args: argparse.Namespace) -> int:
    from paperdesk.core.rank import rules

    with open_library(args, rules.RuleError) as lib:
        rule = rules.get_rule(lib, args.name)
        ids = rules.matches(lib, rule)
        rows = lib.rows(ids)
        if args.json:
            if not args.dry_run:
                rules.apply(lib, rule, ids)
            print_json({"rule": rule.name, "actions": rule.actions, "dry_run": args.dry_run,
                        "papers": [{"id": r["id"], "title": r["title"]} for r in rows]})
            return 0
        verb = "would" if args.dry_run else "will"
        print(f"rule {rule.name!r} {verb} {rule.describe_actions()} {len(ids)} "
              f"paper{'s' if len(ids) != 1 else ''} in the Inbox:")
        for r in rows[:50]:
            print(f"  {r['id']:<16} {one_line(r['title'], 90)}")
        if len(rows) > 50:
            print(f"  … and {len(rows) - 50} more")
        if not args.dry_run and ids:
            rules.apply(lib, rule, ids)
            print("done (undo with `paperdesk undo`; one step per action)")
    return 0


def cmd_rules_rm(args: argparse.Namespace) -> int:
    from paperdesk.core.rank import rules

    with open_library(args, rules.RuleError) as lib:
        rules.remove_rule(lib, args.name)
        print(f"removed rule {args.name!r}")
    return 0
