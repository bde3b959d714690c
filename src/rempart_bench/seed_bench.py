"""Benchmark ``rempart seed``: wall time and peak memory of one run, printed as JSON.

    .venv/bin/python -m rempart_bench.seed_bench --persons 1000000

The seed runs in a child process into a temporary SQLite file (or ``--db URL``); its peak
resident memory comes from ``getrusage(RUSAGE_CHILDREN)``, the maximum over waited-for
children, so run one benchmark per invocation. The JSON also describes the machine and how busy it
was (load average before and after the run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = (
    "organisations",
    "agents",
    "persons",
    "trainings",
    "training_sessions",
    "enrolments",
    "assignments",
    "follow_up_notes",
    "attendance",
)


def machine() -> dict[str, object]:
    """CPU count and model, memory: the context any figure needs."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
            break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def rempart_command() -> list[str]:
    """The ``rempart`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("rempart")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "rempart"]


def main() -> int:
    """Run one seed and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rempart-bench-seed-"))
    db = args.db or f"sqlite:///{workdir / 'rempart.db'}"
    cmd = [
        *rempart_command(),
        "seed",
        "--db",
        db,
        "--persons",
        str(args.persons),
        "--seed",
        str(args.seed),
        "--credentials-out",
        str(workdir / "credentials.json"),
    ]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    # Progress bars and messages of the child go to our stderr; stdout is the JSON alone.
    proc = subprocess.run(cmd, stdout=sys.stderr, check=False)  # noqa: S603 - our own command
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux

    result: dict[str, object] = {
        "persons": args.persons,
        "seed": args.seed,
        "database": "sqlite" if db.startswith("sqlite") else db.split(":", 1)[0],
        "exit_code": proc.returncode,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "machine": machine(),
        # Other work on the machine slows the run: the 1-minute load average before and after.
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "command": " ".join(
            [
                "python -m rempart_bench.seed_bench",
                "--persons",
                str(args.persons),
                "--seed",
                str(args.seed),
            ]
            + (["--db", db] if args.db else [])
        ),
    }
    if db.startswith("sqlite:///") and proc.returncode == 0:
        path = Path(db.removeprefix("sqlite:///"))
        result["db_mib"] = round(path.stat().st_size / 1024 / 1024, 1)
        with sqlite3.connect(path) as conn:
            result["rows"] = {
                t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                for t in TABLES
            }
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
