"""What each part of a search index costs on disk, per paper (on demand).

    python tests/benchmarks/index_parts.py LIBRARY_OR_INDEX_FOLDER [--json]

Whoosh's segments by file kind (term dictionary .trm, postings .pst, the columns compound .cmp:
stored fields, field lengths, sortable columns) and by field; our postings files (.npp) and word
order files (.npw) by field. Term dictionary bytes per field are each entry's key and term info
(the file's hash tables and index spread over the fields in proportion).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from paperdesk.core.search import sidecar, word_order
from paperdesk.core.search.fields import open_index


def whoosh_parts(folder: Path) -> tuple[dict, int]:
    """{(file kind, field): bytes} over every segment, and the documents counted."""
    from whoosh.codec.whoosh3 import W3TermInfo

    parts: dict[tuple[str, str], float] = defaultdict(float)
    ix = open_index(folder)
    docs = 0
    with ix.reader() as top:
        leaves = [top] if top.is_atomic() else [r for r, _ in top.leaf_readers()]
        for reader in leaves:
            docs += reader.doc_count_all()
            terms = reader._terms
            entries: dict[str, float] = defaultdict(float)
            postings: dict[str, float] = defaultdict(float)
            seen: set[int] = set()
            for key, value in terms._tindex.items():
                fieldname, _ = terms._keydecoder(key)
                entries[fieldname] += len(key) + len(value)
                info = W3TermInfo.from_bytes(value)
                if not info.is_inlined() and info._offset not in seen:  # lean terms share one
                    seen.add(info._offset)
                    postings[fieldname] += info._length[0]  # (Whoosh 2.7 unpacks it as a tuple)
            segment = reader._segment
            inside = segment.open_compound_file(ix.storage)._dir if segment.is_compound() else \
                {p.name: {"length": p.stat().st_size} for p in folder.glob(f"{segment.make_filename('')}*")}
            for name, entry in inside.items():
                kind = name.rsplit(".", 1)[-1]
                if kind == "trm":
                    spread = (entry["length"] - sum(entries.values())) / max(sum(entries.values()), 1)
                    for field, size in entries.items():
                        parts[(".trm", field)] += size * (1 + spread)
                elif kind == "pst":
                    for field, size in postings.items():
                        parts[(".pst", field)] += size
                    parts[(".pst", "(file headers)")] += entry["length"] - sum(postings.values())
                else:  # a column: stored fields, a field's lengths, a sortable field
                    parts[(".col", name.split(".", 1)[1].rsplit(".", 1)[0])] += entry["length"]
    ix.close()
    return dict(parts), docs


def _header(path: Path, magic: bytes, older: bytes) -> tuple[dict, int]:
    """A file's header, also of the format before INDEX_VERSION 12 (for comparisons)."""
    try:
        return sidecar.read_header(path, magic)
    except ValueError:
        return sidecar.read_header(path, older)


def npp_parts(folder: Path) -> dict:
    parts: dict[tuple[str, str], float] = defaultdict(float)
    for path in folder.glob(f"{sidecar.PREFIX}*{sidecar.EXTENSION}"):
        try:
            header, offset = _header(path, sidecar.MAGIC, b"PDNPP3\n")
        except ValueError:
            header, offset = sidecar.read_header(path, b"PDNPP2\n")
        parts[(".npp", "(header)")] += offset
        rest = path.stat().st_size - offset
        fields = header["fields"]
        total = 0
        docnum = 2 if "runs" in header else 4  # INDEX_VERSION 15: low bits, runs per block
        if "runs" in header:
            part = header["runs"] * (int(header["positions"][-1]) + int(header["blocks"][-1]))
            parts[(".npp", "(runs)")] += part
            total += part
        for name, (terms, size, _first, count, *kind) in fields.items():
            width = np.dtype(kind[0]).itemsize if kind else 4  # weights: float32 before version 12
            part = (docnum + width) * count + 16 * (terms + 1) + size
            parts[(".npp", name)] += part
            total += part
        parts[(".npp", "(other)")] += rest - total
    return dict(parts)


def npw_parts(folder: Path) -> dict:
    parts: dict[tuple[str, str], float] = defaultdict(float)
    for path in folder.glob(f"{word_order.PREFIX}*{word_order.EXTENSION}"):
        try:
            header, _ = _header(path, word_order.MAGIC, b"PDNPW3\n")
        except ValueError:
            header, _ = sidecar.read_header(path, b"PDNPW2\n")
        for name, info in header["fields"].items():
            width = int(info.get("positions", "<i4")[-1])
            if isinstance(info["words"], dict):  # before INDEX_VERSION 16: a pickled dict in the header
                parts[(".npw", f"{name} (header: words)")] += len(pickle.dumps(info["words"], protocol=4))
                words = len(info["words"])
            else:  # the vocabulary's arrays: word ends, hashes and ids, the words' bytes
                words = info["words"]
                parts[(".npw", f"{name} words")] += (int(info["word_ends"][-1]) * (words + 1) + 8 * words
                                                      + info["word_bytes"])
            if "runs" in info:  # INDEX_VERSION 14: places in two bytes, runs per block
                parts[(".npw", f"{name} doc starts")] += width * (info["docs"] + 1)
                parts[(".npw", f"{name} places (2 bytes)")] += 2 * info["tokens"]
                parts[(".npw", f"{name} runs")] += width * (words + 2 + info["runs"]) + \
                    int(info["blocks"][-1]) * info["runs"]
                continue
            parts[(".npw", f"{name} doc starts")] += 8 * (info["docs"] + 1)
            if "dtype" in info:  # files before INDEX_VERSION 12 stored the sequence too
                parts[(".npw", f"{name} sequence")] += int(info["dtype"][-1]) * info["tokens"]
            parts[(".npw", f"{name} place starts")] += 8 * (words + 1)
            parts[(".npw", f"{name} places")] += width * info["tokens"]
    return dict(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    folder = args.folder / "index" if (args.folder / "index").is_dir() else args.folder
    parts, docs = whoosh_parts(folder)
    parts.update(npp_parts(folder))
    parts.update(npw_parts(folder))
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    rows = sorted(parts.items(), key=lambda kv: (kv[0][0], -kv[1]))
    if args.json:
        print(json.dumps({"docs": docs, "total": total,
                          "parts": {f"{k} {f}".strip(): round(v / docs, 1) for (k, f), v in rows}}))
        return
    print(f"{docs} documents, {total / 1e6:.1f} MB, {total / docs:.0f} bytes a paper")
    by_kind: dict[str, float] = defaultdict(float)
    for (kind, _), size in rows:
        by_kind[kind] += size
    for kind, size in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"{kind:6} {size / 1e6:9.1f} MB {size / docs:8.0f} B/paper")
        for (k, name), part in rows:
            if k == kind and part / docs >= 1:
                print(f"    {name:34} {part / 1e6:9.1f} MB {part / docs:8.0f} B/paper")


if __name__ == "__main__":
    main()
