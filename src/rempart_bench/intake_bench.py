"""The import benchmark: ``rempart import`` of the agency's files at the register's scale.

``python -m rempart_bench.intake_bench --persons 6000000`` writes the six CSV files (valid rows:
organisations, advisers, the people, trainings, enrolments and assignments in the population's
proportions), then runs ``rempart import`` once into a fresh SQLite portal, in a child process,
and reports its wall time and the child's peak resident memory (``ru_maxrss``), then a second
run over the same files (which must change nothing), as JSON.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from random import Random

from rempart.db.engine import make_engine
from rempart.db.migrate import upgrade, write_meta
from rempart.intake.model import COLUMNS, ImportFile
from rempart.kernel.identifiers import ft_id_from_number, make_nir, make_siret

PERSONS_PER_ADVISER = 400  # an adviser's portfolio, order of magnitude
ASSIGNED_SHARE = 0.5  # people followed by an adviser of a Mission Locale or Cap emploi
ENROLLED_SHARE = 0.1  # people in a training at a given time
TRAININGS_PER_BODY = 20
PERSONS_PER_BODY = 1500


def _writer(directory: Path, file: ImportFile) -> tuple[object, csv.DictWriter[str]]:
    out = (directory / file.value).open("w", encoding="utf-8", newline="")
    w = csv.DictWriter(out, fieldnames=COLUMNS[file])
    w.writeheader()
    return out, w


def write_files(directory: Path, persons: int, seed: int = 1) -> dict[str, int]:
    """The agency's six files for ``persons`` people; returns the rows of each."""
    rng = Random(seed)
    today = dt.date(2026, 11, 16)
    advisers = max(1, int(persons * ASSIGNED_SHARE) // PERSONS_PER_ADVISER)
    bodies = max(1, persons // PERSONS_PER_BODY)
    structures = max(1, advisers // 12)
    rows = dict.fromkeys((f.value for f in ImportFile), 0)

    out, w = _writer(directory, ImportFile.ORGANISATIONS)
    orgs = [("AG-NAT", "agency")]
    orgs += [
        (f"ML-{i:05d}", "mission_locale" if i % 4 else "cap_emploi") for i in range(structures)
    ]
    orgs += [(f"OF-{i:05d}", "training_body") for i in range(bodies)]
    for n, (org_id, kind) in enumerate(orgs):
        w.writerow(
            {"id": org_id, "kind": kind, "name": f"Organisation {org_id}",
             "siret": make_siret(f"{n + 1:013d}"), "region": "Île-de-France"}
        )  # fmt: skip
    rows[ImportFile.ORGANISATIONS.value] = len(orgs)
    out.close()  # type: ignore[attr-defined]

    out, w = _writer(directory, ImportFile.AGENTS)
    for i in range(advisers):
        w.writerow(
            {"login": f"adv{i:06d}", "email": f"adv{i:06d}@partner.example", "roles": "advisor",
             "org_id": f"ML-{i % structures:05d}", "end_date": "", "training_valid_until": ""}
        )  # fmt: skip
    rows[ImportFile.AGENTS.value] = advisers
    out.close()  # type: ignore[attr-defined]

    out, w = _writer(directory, ImportFile.TRAININGS)
    trainings = bodies * TRAININGS_PER_BODY
    for t in range(trainings):
        w.writerow(
            {"id": t + 1, "org_id": f"OF-{t // TRAININGS_PER_BODY:05d}", "title": f"Formation {t}",
             "start_date": "2026-09-01", "end_date": "2027-06-30"}
        )  # fmt: skip
    rows[ImportFile.TRAININGS.value] = trainings
    out.close()  # type: ignore[attr-defined]

    p_out, p = _writer(directory, ImportFile.PERSONS)
    e_out, e = _writer(directory, ImportFile.ENROLMENTS)
    a_out, a = _writer(directory, ImportFile.ASSIGNMENTS)
    for n in range(persons):
        birth = today - dt.timedelta(days=rng.randrange(16 * 365, 64 * 365))
        ft = ft_id_from_number(n)
        gone = rng.random() < 0.1
        body = (
            f"{rng.choice('12')}{birth.year % 100:02d}{birth.month:02d}{rng.randrange(1, 96):02d}"
        )
        body += f"{rng.randrange(1, 999):03d}{rng.randrange(1, 999):03d}"
        registered = birth + dt.timedelta(days=16 * 365 + rng.randrange(0, 3000))
        registered = min(registered, today - dt.timedelta(days=30))
        p.writerow(
            {
                "ft_id": ft,
                "kind": "youth" if today.year - birth.year <= 25 else "job_seeker",
                "nir": make_nir(body),
                "last_name": f"Nom{n % 5000}",
                "first_name": f"Prénom{n % 700}",
                "birth_date": birth.isoformat(),
                "email": f"p{n}@mail.example",
                "phone": f"06{n % 10**8:08d}",
                "address_line": f"{n % 300 + 1} rue de la République",
                "postcode": f"{rng.randrange(1, 96):02d}{rng.randrange(0, 1000):03d}",
                "city": "Ville",
                "registration_status": "deregistered" if gone else "registered",
                "registration_date": registered.isoformat(),
                "deregistration_date": today.isoformat() if gone else "",
                "rqth_since": "2020-01-01" if n % 33 == 0 else "",
            }
        )
        if rng.random() < ENROLLED_SHARE:
            e.writerow(
                {"training_id": rng.randrange(1, trainings + 1), "ft_id": ft,
                 "start_date": "2026-09-01", "end_date": "2027-06-30"}
            )  # fmt: skip
            rows[ImportFile.ENROLMENTS.value] += 1
        if rng.random() < ASSIGNED_SHARE:
            a.writerow(
                {"advisor_login": f"adv{rng.randrange(advisers):06d}", "ft_id": ft,
                 "start_date": "2026-01-05", "end_date": ""}
            )  # fmt: skip
            rows[ImportFile.ASSIGNMENTS.value] += 1
    rows[ImportFile.PERSONS.value] = persons
    for f in (p_out, e_out, a_out):
        f.close()  # type: ignore[attr-defined]
    return rows


def run_import(db_url: str, directory: Path, report: Path) -> tuple[float, int, dict[str, object]]:
    """One ``rempart import`` in a child process: (seconds, exit code, its summary)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env["REMPART_JOBS_INTERVAL_SECONDS"] = "0"
    env["REMPART_GUARD_BASELINES_AT_START"] = "false"
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "rempart", "import", "--db", db_url, str(directory)]
    # Our own interpreter running our own CLI, with arguments built here.
    done = subprocess.run(  # noqa: S603
        [*cmd, "--report", str(report)], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    if not summary:
        print(done.stderr[-3000:], file=sys.stderr)
    return seconds, done.returncode, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=6_000_000)
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: a temp one)"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="rempart-intake-"))
    files = work / "agency"
    files.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = write_files(files, args.persons)
    generated = time.perf_counter() - t0
    db_path = work / "rempart.db"
    db_url = f"sqlite:///{db_path}"
    upgrade(db_url)
    engine = make_engine(db_url)
    write_meta(engine, "demo", "true")  # settings as a demo database: no production secrets
    engine.dispose()
    first, code1, _ = run_import(db_url, files, work / "report1.json")
    rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    second, code2, summary2 = run_import(db_url, files, work / "report2.json")
    per_file: dict[str, dict[str, int]] = summary2.get("files") or {}  # type: ignore[assignment]
    changed = {
        name: c.get("inserted", 0) + c.get("updated", 0) + c.get("ended", 0)
        for name, c in per_file.items()
    }
    result = {
        "persons": args.persons,
        "rows": rows,
        "input_mib": round(sum(f.stat().st_size for f in files.iterdir()) / 2**20, 1),
        "generate_seconds": round(generated, 1),
        "first_run": {"wall_seconds": round(first, 1), "exit_code": code1,
                      "rows_per_second": round(sum(rows.values()) / first)},
        "peak_rss_mib": round(rss_kib / 1024, 1),
        "second_run": {"wall_seconds": round(second, 1), "exit_code": code2,
                       "changed": changed},
        "db_mib": round(db_path.stat().st_size / 2**20, 1),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                    "sqlite": sqlite3.sqlite_version, "load_average": os.getloadavg()},
        "command": f"python -m rempart_bench.intake_bench --persons {args.persons}",
    }  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
