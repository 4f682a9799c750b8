"""Synthetic libraries for GUI tests and benchmarks (Qt-free: built from SourceBatch values)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from paperdesk.core.records import IncomingPaper, SourceBatch

_WORD_TEXT = (
    "learning diffusion language model transformer graph sparse attention robust agents vision "
    "retrieval reasoning scaling efficient neural quantum protein code benchmark alignment memory "
    "reinforcement contrastive latent video speech federated causal symbolic optimisation"
)
_WORDS = _WORD_TEXT.split()
_ORGS = ("DeepMind", "Meta AI", "MIT", "Stanford", "ETH Zurich", "Tsinghua", None, None)


def synthetic_batches(n: int, *, per_batch: int = 1000, seed: int = 5,
                      prefix: str = "synthetic") -> Iterator[SourceBatch]:
    """`n` distinct papers split into digest batches of `per_batch` papers."""
    rng = random.Random(seed)
    for start in range(0, n, per_batch):
        papers = []
        for i in range(start, min(n, start + per_batch)):
            words = rng.sample(_WORDS, 6)
            papers.append(IncomingPaper(
                title=f"{' '.join(words).capitalize()} {prefix} {i}",
                abstract=" ".join(rng.choice(_WORDS) for _ in range(60)),
                authors=[f"Author {rng.randint(1, 5000)}" for _ in range(rng.randint(1, 4))],
                organization=rng.choice(_ORGS),
                published=f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                upvotes=rng.randint(0, 400),
            ))
        day = 1 + (start // per_batch) % 28
        name = f"{prefix}-{start // per_batch:04d}.txt"
        yield SourceBatch(
            kind="digest", name=name, origin=f"/synthetic/{name}", date=f"2025-11-{day:02d}",
            content_hash=hashlib.sha1(f"{prefix}{seed}{start}".encode()).hexdigest(),
            papers=papers, layout="synthetic",
        )
