"""Nothing lost, nothing stuck: kill -9 at random moments and writes beside a long import (on demand).

    python tests/benchmarks/bench_crash.py --kills 40 --writes 200

Kill trials: a CLI import (several digest files), an index rebuild, a note save or an undo is killed
with SIGKILL after a random delay; then the database must pass `PRAGMA integrity_check`, every
digest source must hold exactly the papers its file lists (no partial file), and `index check`
must end agreeing with the library. Concurrent writes: `paperdesk star/tag/note` commands run while
a long import runs in another process; every one must succeed (no "database is locked").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "benchmarks")]

from synth_digests import write_digests  # noqa: E402

CLI = [sys.executable, "-m", "paperdesk"]


def run(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "--library", str(folder), *args], capture_output=True, text=True,
                          check=check, timeout=600)


def consistent(folder: Path) -> list[str]:
    """What is wrong with the library after a kill ([] when nothing)."""
    problems = []
    conn = sqlite3.connect(folder / "library.sqlite3")
    if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        problems.append("integrity_check failed")
    for sid, name, count in conn.execute("SELECT id, name, paper_count FROM sources WHERE kind = 'digest'"):
        listed = conn.execute("SELECT count(*) FROM provenance WHERE source_id = ?", (sid,)).fetchone()[0]
        if listed != count:
            problems.append(f"source {name}: {listed} of {count} papers")
    conn.close()
    return problems


def kill_trials(workdir: Path, kills: int, rng: random.Random) -> dict:
    folder = workdir / "kills"
    files = write_digests(workdir / "digests", 3000, per_file=300)
    run(folder, "import", *map(str, files[:2]))
    run(folder, "index", "rebuild")
    ids = run(folder, "list", "--limit", "50", "--json").stdout
    some = [p["id"] for p in json.loads(ids)]
    actions = {
        "import": lambda: ["import", *map(str, files)],
        "rebuild": lambda: ["index", "rebuild"],
        "note": lambda: ["note", rng.choice(some), "--set", "x" * rng.randint(1, 5000)],
        "undo": lambda: ["undo", "--yes"],
        "star": lambda: ["star", *rng.sample(some, 10)],
    }
    counts = {k: 0 for k in actions}
    broken: list[str] = []
    for trial in range(kills):
        kind = rng.choice(list(actions))
        counts[kind] += 1
        proc = subprocess.Popen([*CLI, "--library", str(folder), *actions[kind]()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 3.0))  # a random moment: this is the experiment, not a wait
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        problems = consistent(folder)
        if problems:
            broken.append(f"trial {trial} ({kind}): {problems}")
    check = run(folder, "index", "check", check=False)
    said = check.stdout.strip().splitlines()[-1:] + check.stderr.strip().splitlines()[-1:]
    return {"kills": kills, "by_action": counts, "broken": broken, "index_check_after": said}


def concurrent_writes(workdir: Path, writes: int, rng: random.Random) -> dict:
    folder = workdir / "writes"
    files = write_digests(workdir / "digests-w", 10000, per_file=500, first=100000)
    run(folder, "import", str(files[0]))
    some = [p["id"] for p in json.loads(run(folder, "list", "--limit", "200", "--json").stdout)]
    importer = subprocess.Popen([*CLI, "--library", str(folder), "import", *map(str, files[1:])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    failures, locked, done = [], 0, 0
    while done < writes:
        pid = rng.choice(some)
        args = rng.choice([["star", pid], ["tag", pid, f"t{rng.randint(1, 9)}"], ["note", pid, "--set", "n"]])
        out = run(folder, *args, check=False)
        done += 1
        if out.returncode != 0:
            failures.append(out.stderr.strip()[:200])
            locked += "locked" in out.stderr
    still_importing = importer.poll() is None
    importer.wait()
    return {"writes": done, "failed": len(failures), "database_is_locked": locked,
            "import_still_running_at_the_end": still_importing, "import_rc": importer.returncode,
            "first_failures": failures[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=40)
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    out = {"kill_trials": kill_trials(workdir, args.kills, rng),
           "concurrent_writes": concurrent_writes(workdir, args.writes, rng)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
