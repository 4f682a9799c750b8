"""The feature cache's arrays on disk, a piece at a time: the members of an uncompressed .npz read
by offset, and the matrix's kept entries appended to files of this process that it maps read-only.

Why: at 1M papers a chunk file holds 245M entries (~743 MB, word pairs and all) of which the
matrix keeps 112M (336 MB); reading the file whole held both. Read in blocks, a load holds what it
keeps. Mapped from a file, the kept entries are page cache the kernel can drop under pressure and
read again (as it does the search index's mapped files), not anonymous memory only swap can take.
"""

from __future__ import annotations

import mmap
import os
import struct
import tempfile
import weakref
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip member's local header: signature, name and extra lengths


class NpzMembers:
    """The arrays of an .npz written by `np.savez` (stored, not compressed), each read whole or a
    slice at a time from its offset in the file. The file stays open until `close()`: another
    process may delete it (compaction) between the reads of a load."""

    def __init__(self, path: Path):
        self._fh: BinaryIO = open(path, "rb")  # noqa: SIM115 (kept open across reads; closed by close())
        try:
            self.members = self._index()
        except (OSError, ValueError):
            self._fh.close()
            raise
        except Exception as exc:  # whatever else a foreign file makes zipfile or numpy raise
            self._fh.close()
            raise ValueError(f"not an .npz of arrays: {exc}") from exc

    def _index(self) -> dict[str, tuple[int, np.dtype, tuple[int, ...]]]:
        """name -> (offset of its data, dtype, shape). Raises ValueError for anything but stored
        C-order .npy members that fit in their file (a torn or foreign file)."""
        fh = self._fh
        try:
            infos = zipfile.ZipFile(fh).infolist()
        except zipfile.BadZipFile as exc:
            raise ValueError(str(exc)) from exc
        out = {}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"not a stored .npy member: {info.filename}")
            fh.seek(info.header_offset)
            header = fh.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size:
                raise ValueError("torn local header")
            signature, name_len, extra_len = _LOCAL_HEADER.unpack(header)
            if signature != b"PK\x03\x04":
                raise ValueError("no local header")
            start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
            fh.seek(start)
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"npy version {version}")
            offset = fh.tell()
            if (fortran and len(shape) > 1) or dtype.hasobject:
                raise ValueError("not a plain array")
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if offset + nbytes > start + info.file_size:
                raise ValueError(f"{info.filename} is shorter than its header says")
            out[info.filename[:-4]] = (offset, dtype, tuple(shape))
        return out

    def dtype(self, name: str) -> np.dtype:
        return self.members[name][1]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.members[name][2]

    def read(self, name: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Elements start:stop of a 1-d member (all of a 0-d one), into a new array."""
        offset, dtype, shape = self.members[name]
        size = int(np.prod(shape, dtype=np.int64))
        stop = size if stop is None else min(stop, size)
        out = np.empty(max(stop - start, 0), dtype=dtype)
        self._fh.seek(offset + start * dtype.itemsize)
        if self._fh.readinto(out.view(np.uint8)) != out.nbytes:
            raise ValueError(f"{name} ends early")
        return out if shape else out.reshape(())

    def close(self) -> None:
        self._fh.close()


Member = tuple[np.dtype, tuple[int, ...], Iterable[np.ndarray]]  # dtype, shape, the data's pieces


def write_npz(fh: BinaryIO, members: dict[str, Member]) -> None:
    """An .npz as `np.savez` writes it (stored .npy members), each member's data written a piece at
    a time: name -> (dtype, shape, its pieces in order)."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, (dtype, shape, pieces) in members.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                          "shape": shape}
                np.lib.format.write_array_header_1_0(out, header)
                for piece in pieces:
                    out.write(np.ascontiguousarray(piece, dtype=dtype).reshape(-1).view(np.uint8))


class EntryFiles:
    """Arrays grown by appending, kept in unnamed files of this process in `folder` and mapped
    read-only (`arrays()`), or in anonymous memory where no file can be made or written.

    The files have no name (O_TMPFILE, or deleted at once where that is missing): no other process
    can open, write or delete them, and they vanish with the process, also when it crashes. The
    arrays handed out stay valid after more is appended (a new mapping covers the longer files)."""

    def __init__(self, folder: Path | None, dtypes: tuple[np.dtype, ...]):
        self.dtypes = tuple(np.dtype(d) for d in dtypes)
        self.size = 0
        self._files: list[BinaryIO] | None = None
        self._memory: list[np.ndarray] | None = None
        self._mappings: list[mmap.mmap] = []  # those of the arrays last handed out
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                # Unbuffered: what `size` counts is in the file, also when a later write fails
                self._files = [tempfile.TemporaryFile(dir=folder, prefix=".matrix-", buffering=0)  # noqa: SIM115
                               for _ in self.dtypes]
            except OSError:
                self._files = None
        if self._files is None:
            self._memory = [np.empty(0, dtype=d) for d in self.dtypes]
        else:  # closed when this goes (the cache that held it was dropped) if not before
            weakref.finalize(self, _close_all, list(self._files))

    @property
    def mapped(self) -> bool:
        return self._files is not None

    def append(self, *parts: np.ndarray) -> None:
        """One part per array, all of one length."""
        n = len(parts[0])
        if self._files is not None:
            try:
                for fh, part, dtype in zip(self._files, parts, self.dtypes, strict=True):
                    data = memoryview(np.ascontiguousarray(part, dtype=dtype).view(np.uint8))
                    while data:  # a raw write may write part of it
                        data = data[fh.write(data):]
                self.size += n
                return
            except OSError:  # a full disk: what is written is read back, the rest grows in memory
                self._memory = [self._read_back(fh, d)
                                for fh, d in zip(self._files, self.dtypes, strict=True)]
                self._close_files()
                self._mappings = []
        assert self._memory is not None
        for i, (part, dtype) in enumerate(zip(parts, self.dtypes, strict=True)):
            grown = self._memory[i]
            if grown.flags.owndata and grown.base is None:
                grown.resize(self.size + n, refcheck=False)  # realloc: the pages move, no copy
            else:
                grown = np.concatenate([grown, np.empty(n, dtype)])
            grown[self.size:] = part
            self._memory[i] = grown
        self.size += n

    def read(self, i: int, start: int, stop: int) -> np.ndarray:
        """Elements start:stop of the i-th array, read (not mapped: nothing stays resident)."""
        if self._files is None:
            assert self._memory is not None
            return self._memory[i][start:stop]
        fh, dtype = self._files[i], self.dtypes[i]
        size = (stop - start) * dtype.itemsize
        if hasattr(os, "pread"):  # the file's position stays at its end, where appends go
            data = os.pread(fh.fileno(), size, start * dtype.itemsize)
        else:
            fh.seek(start * dtype.itemsize)
            data = fh.read(size)
            fh.seek(0, os.SEEK_END)
        return np.frombuffer(data, dtype=dtype)

    def _read_back(self, fh: BinaryIO, dtype: np.dtype) -> np.ndarray:
        out = np.empty(self.size, dtype=dtype)
        fh.seek(0)
        fh.readinto(out.view(np.uint8))
        return out

    def arrays(self) -> list[np.ndarray]:
        """The arrays as appended so far: read-only views of the files' mappings."""
        if self._files is None:
            assert self._memory is not None
            return [a[:self.size] for a in self._memory]
        out = []
        self._mappings = []
        for fh, dtype in zip(self._files, self.dtypes, strict=True):
            if not self.size:
                out.append(np.empty(0, dtype=dtype))
                continue
            mapping = mmap.mmap(fh.fileno(), self.size * dtype.itemsize, access=mmap.ACCESS_READ)
            self._mappings.append(mapping)
            out.append(np.frombuffer(mapping, dtype=dtype))  # the mapping lives as long as the array
        return out

    def release(self, start: int = 0, stop: int | None = None) -> None:
        """Lets go of the mapped pages of elements start:stop that this process has touched
        (MADV_DONTNEED): they stay in the page cache, so a later read maps them again by minor
        faults (1M papers, 336 MB: a scoring pass 539 -> 548 ms), but they no longer count in the
        process's resident memory, and the kernel reclaims them like any cached file."""
        if not hasattr(mmap, "MADV_DONTNEED"):
            return
        for mapping, dtype in zip(self._mappings, self.dtypes, strict=False):
            first = start * dtype.itemsize // mmap.PAGESIZE * mmap.PAGESIZE
            end = len(mapping) if stop is None else min(stop * dtype.itemsize, len(mapping))
            if end > first:
                mapping.madvise(mmap.MADV_DONTNEED, first, end - first)

    def _close_files(self) -> None:
        for fh in self._files or []:
            fh.close()  # a mapping keeps its own reference: arrays handed out stay valid
        self._files = None

    def close(self) -> None:
        self._close_files()


def _close_all(files: list[BinaryIO]) -> None:
    for fh in files:
        fh.close()
