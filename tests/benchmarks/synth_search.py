"""Synthetic papers for search benchmarks: seed-digest vocabulary and lengths, as SourceBatch values.

Words are drawn from the sample digests with their natural frequencies, so common words are common
and prefixes expand like real text. Paper n is always the same paper.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from pathlib import Path

from paperdesk.core.records import IncomingPaper, SourceBatch

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "resources" / "samples").glob("*.txt"))
ORGS = ["DeepMind", "OpenAI", "Meta", "Google", "Microsoft", "Alibaba", "Tsinghua", "Stanford", "MIT",
        "ByteDance", "NVIDIA", "Anthropic", "Tencent", "Mila", "ETH Zurich"]
FIRST = ["Wei", "Anna", "Ravi", "Li", "Maria", "John", "Yuki", "Omar", "Sara", "Chen", "Lukas", "Priya"]
LAST = ["Zhang", "Smith", "Kumar", "Wang", "Garcia", "Müller", "Tanaka", "Haddad", "Rossi", "Liu"]


def vocabulary() -> list[str]:
    words: list[str] = []
    for path in SAMPLES:
        words += re.findall(r"[A-Za-z][A-Za-z\-]{1,}", path.read_text(encoding="utf-8"))
    return words


class Papers:
    def __init__(self, seed: int = 11):
        self.words = vocabulary()
        self.seed = seed

    def paper(self, n: int) -> IncomingPaper:
        rng = random.Random(self.seed * 1_000_003 + n)
        title = " ".join(rng.choice(self.words) for _ in range(rng.randint(6, 14))).capitalize()
        abstract = " ".join(rng.choice(self.words) for _ in range(rng.randint(120, 260))) + "."
        year, month, day = rng.randint(2017, 2026), rng.randint(1, 12), rng.randint(1, 28)
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 6))]
        return IncomingPaper(
            title=f"{title} {n}", abstract=abstract, authors=authors, authors_count=len(authors),
            organization=rng.choice(ORGS) if rng.random() < 0.3 else None,
            published=f"{year}-{month:02d}-{day:02d}" if rng.random() < 0.9 else None,
            upvotes=rng.randint(0, 300) if rng.random() < 0.7 else None,
        )

    def batches(self, first: int, count: int, per_batch: int = 5000) -> Iterator[SourceBatch]:
        for start in range(first, first + count, per_batch):
            stop = min(first + count, start + per_batch)
            name = f"synthetic_{start:07d}.txt"
            yield SourceBatch(
                kind="digest", name=name, origin=f"/synthetic/{name}", date="2026-11-05",
                content_hash=hashlib.sha1(f"{self.seed}:{start}:{stop}".encode()).hexdigest(),
                papers=[self.paper(n) for n in range(start, stop)], layout="blocks")
