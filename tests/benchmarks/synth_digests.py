"""Synthetic Hugging Face Papers digests with the vocabulary and lengths of the real samples."""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "resources" / "samples").glob("*.txt"))
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def vocabulary() -> list[str]:
    words: list[str] = []
    for path in SAMPLES:
        words += re.findall(r"[A-Za-z][A-Za-z\-]{2,}", path.read_text(encoding="utf-8"))
    return words


class DigestWriter:
    """Writes digests in the "blocks" layout; paper n always gets the same title and text."""

    def __init__(self, seed: int = 7):
        self.words = vocabulary()
        self.seed = seed

    def paper(self, n: int) -> tuple[str, str, str]:
        rng = random.Random(self.seed * 1_000_003 + n)
        title = " ".join(rng.choice(self.words) for _ in range(rng.randint(6, 14))).capitalize()
        title = f"{title} {n}"  # unique per n, like real titles
        abstract = " ".join(rng.choice(self.words) for _ in range(rng.randint(120, 260))) + "."
        month, day = rng.choice(MONTHS), rng.randint(1, 28)
        year = f", {rng.randint(2017, 2025)}" if rng.random() < 0.5 else ""
        ups = f" {rng.randint(1, 300)}" if rng.random() < 0.6 else ""
        meta = (f"  • {rng.randint(1, 30)} authors" if rng.random() < 0.95 else "acme Acme Labs")
        return title, abstract, f"{meta}\n·\n{month} {day}{year}{ups}"

    def write(self, path: Path, first: int, count: int, date: str = "Nov 5") -> None:
        parts = ["new", "", "Get trending papers in your email inbox!", "", "Subscribe", "",
                 "Daily Papers", "", "byAK and the research community", "", date, ""]
        for n in range(first, first + count):
            title, abstract, meta = self.paper(n)
            parts += [title, "", abstract, "", meta, ""]
        path.write_text("\n".join(parts), encoding="utf-8")


def write_digests(folder: Path, papers: int, per_file: int = 100, first: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    writer = DigestWriter()
    paths = []
    for i, start in enumerate(range(first, first + papers, per_file)):
        path = folder / f"digest_{first}_{i:05d}.txt"
        writer.write(path, start, min(per_file, first + papers - start))
        paths.append(path)
    return paths
