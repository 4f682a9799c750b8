"""What bounding a fit's archived papers (model.MAX_NEGATIVES) changes in the ranking, and costs.

    python tests/benchmarks/bench_rank_cap.py --library COPY [--caps 30000 10000 3000] [--topic]

On a copy of a library (it writes rank/, and --topic rewrites its decisions): the interest model is
trained from its decisions with every archived paper (no cap) and with each cap, and the Inbox ranked
by each. Printed per cap: read_labels and train seconds, the archived papers read, and how much of the
uncapped ranking's top 100 / top 1000 each keeps (and, for scale, an uncapped fit with another sample
of unlabelled papers, the fit's own randomness). --topic first replaces the decisions by a simulated
reader's: 40% of the papers decided in a random order over the last 300 days, starred when the title
has a topic word, else archived; then p@20 / p@100 (the share of topic papers at the top of the
undecided ones) is printed too. python_loop_20M_s says how loaded the machine was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

from bench_rank import python_loop  # noqa: E402

from paperdesk.core import Library  # noqa: E402
from paperdesk.core.rank import model as m  # noqa: E402

TOPIC = ("video", "image", "images", "visual", "diffusion", "speech", "audio")
DECIDED, DAYS = 0.4, 300


def simulate_reader(lib: Library) -> set[str]:
    """The decisions of a reader who keeps the topic (see the module's doc); the topic's papers."""
    rng = random.Random(5)
    rows = lib.conn.execute("SELECT id, lower(title) FROM papers").fetchall()
    topic = {pid for pid, title in rows if set(title.split()) & set(TOPIC)}
    decided = rng.sample([pid for pid, _ in rows], int(DECIDED * len(rows)))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with lib.conn:
        lib.conn.execute("DELETE FROM tags")
        lib.conn.execute("UPDATE papers SET starred = 0, status = 'inbox' "
                         "WHERE starred = 1 OR status != 'inbox'")
        for i, pid in enumerate(decided):  # in decision order: the journal lists them so
            when = (now - dt.timedelta(days=DAYS * (len(decided) - i) / len(decided))).isoformat()
            keep = pid in topic
            lib.conn.execute("UPDATE papers SET starred = ?, status = ?, updated_at = ? WHERE id = ?",
                             (int(keep), "inbox" if keep else "archived", when, pid))
    return topic


def ranking(lib: Library, cap: int | None, inbox_rows: np.ndarray, seed: int = 0) -> tuple[dict, np.ndarray]:
    m.MAX_NEGATIVES = cap if cap is not None else 10**12
    out: dict = {"cap": cap, "seed": seed}
    start = time.perf_counter()
    labels = m.read_labels(lib.conn)
    out["read_labels_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    model = m.train(lib.ranker.cache, labels, today=dt.date.today(), conn=lib.conn, seed=seed)
    out["train_s"] = round(time.perf_counter() - start, 2)
    out["archived_read"] = len(labels.negatives) + len(labels.sampled)
    out["positives"] = model.positives
    scores = lib.ranker.cache.score_all(model.weights.dense())[inbox_rows]
    return out, inbox_rows[np.argsort(-scores, kind="stable")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--caps", type=int, nargs="*", default=[m.MAX_NEGATIVES, 10_000, 3_000])
    ap.add_argument("--topic", action="store_true")
    args = ap.parse_args()
    out: dict = {"python_loop_20M_s": python_loop()}
    lib = Library.open(args.library)
    topic = simulate_reader(lib) if args.topic else None
    start = time.perf_counter()
    lib.ranker.cache.refresh(lib.conn)
    out["features_s"] = round(time.perf_counter() - start, 1)
    undecided = [pid for (pid,) in lib.conn.execute("SELECT id FROM papers WHERE status = 'inbox' "
                                                    "AND starred = 0")]
    inbox_rows = lib.ranker.cache.rows(undecided)
    inbox_rows = inbox_rows[inbox_rows >= 0]
    is_topic = None
    if topic is not None:
        row_topic = np.zeros(len(lib.ranker.cache.row_of), dtype=bool)
        known = lib.ranker.cache.rows(sorted(topic))
        row_topic[known[known >= 0]] = True
        is_topic = row_topic
        out["topic_share_of_undecided"] = round(float(row_topic[inbox_rows].mean()), 3)
    out |= {"papers": lib.count(), "undecided": len(inbox_rows), "runs": []}
    base = None
    # The first row is the reference; the second, uncapped with another sample of unlabelled papers
    # (the fit's own randomness), says how much any other fit's ranking moves
    for cap, seed in [(None, 0), (None, 1), *((cap, 0) for cap in args.caps)]:
        row, order = ranking(lib, cap, inbox_rows, seed)
        if base is None:
            base = order
        for k in (100, 1000):
            row[f"top{k}_kept"] = round(len(np.intersect1d(order[:k], base[:k])) / k, 3)
        if is_topic is not None:
            for k in (20, 100):
                row[f"p@{k}"] = round(float(is_topic[order[:k]].mean()), 3)
        out["runs"].append(row)
        print(json.dumps(row), file=sys.stderr)
    out["python_loop_20M_s_at_end"] = python_loop()
    lib.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
