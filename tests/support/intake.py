"""The agency's files for import tests: a few thousand good rows and one bad row of each kind.

``agency_files(dir)`` writes them and returns what a correct import must do: the bad rows by
``(file, line)`` and the rule each breaks, and who is assigned to whom.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from rempart.intake.model import COLUMNS, ImportFile
from rempart.kernel.identifiers import ft_id_from_number, make_nir, make_siret

PERSONS = 3_000
ML_ASSIGNED = 8  # the Mission Locale adviser's people (small: a new account's budget is low)
CE_ASSIGNED = 400
ENROLLED = 500


@dataclass
class AgencyFiles:
    """What was written, and what the import must make of it."""

    directory: Path
    bad: dict[tuple[str, int], str] = field(default_factory=dict)  # (file, line) -> column
    ml_people: set[str] = field(default_factory=set)
    ce_people: set[str] = field(default_factory=set)
    good: dict[str, int] = field(default_factory=dict)  # file -> good rows

    def rows_of(self, file: ImportFile) -> list[list[str]]:
        """The rows of one file as written (header first)."""
        with (self.directory / file.value).open(encoding="utf-8", errors="replace") as f:
            return list(csv.reader(f))


def person_row(n: int, **over: str) -> dict[str, str]:
    """A valid persons.csv row for person number ``n``."""
    birth = dt.date(1980, 1, 1) + dt.timedelta(days=n % 9000)
    row = {
        "ft_id": ft_id_from_number(n),
        "kind": "youth" if n % 5 == 0 else "job_seeker",
        "nir": make_nir(f"1{birth.year % 100:02d}{birth.month:02d}75{n % 1000:03d}{n % 997:03d}"),
        "last_name": f"Nom{n}",
        "first_name": f"Prénom{n}",
        "birth_date": birth.isoformat(),
        "email": f"person{n}@example.fr",
        "phone": f"06{n:08d}"[:10],
        "address_line": f"{n} rue de la Paix",
        "postcode": "75002",
        "city": "Paris",
        "registration_status": "registered",
        "registration_date": "2024-01-15",
        "deregistration_date": "",
        "rqth_since": "2023-05-01" if n % 7 == 0 else "",
    }
    row.update(over)
    return row


class _Writer:
    def __init__(self, files: AgencyFiles, file: ImportFile) -> None:
        self.files = files
        self.file = file
        self.path = files.directory / file.value
        self.out = self.path.open("w", encoding="utf-8", newline="")
        self.w = csv.writer(self.out)
        self.w.writerow(COLUMNS[file])
        self.line = 1
        self.good = 0

    def row(self, values: dict[str, str], bad: str | None = None) -> None:
        self.w.writerow([values[c] for c in COLUMNS[self.file]])
        self.line += 1
        if bad is None:
            self.good += 1
        else:
            self.files.bad[(self.file.value, self.line)] = bad

    def raw(self, data: bytes, bad: str) -> None:
        self.out.flush()
        with self.path.open("ab") as raw:
            raw.write(data)
        self.line += 1
        self.files.bad[(self.file.value, self.line)] = bad

    def close(self) -> None:
        self.out.close()
        self.files.good[self.file.value] = self.good


def agency_files(directory: Path, *, today: dt.date) -> AgencyFiles:
    """Write the six files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = AgencyFiles(directory)

    w = _Writer(files, ImportFile.ORGANISATIONS)
    for i, (org_id, kind) in enumerate(
        [
            ("AG-75", "agency"),
            ("ML-NORD", "mission_locale"),
            ("CE-75", "cap_emploi"),
            ("OF-DUPONT", "training_body"),
        ]
    ):
        w.row(
            {
                "id": org_id,
                "kind": kind,
                "name": f"Organisation {org_id}",
                "siret": make_siret(f"1234567800{i:03d}"),
                "region": "Île-de-France",
            }
        )
    good_siret = make_siret("9876543210001")
    bad_siret = good_siret[:-1] + str((int(good_siret[-1]) + 1) % 10)
    w.row(
        {"id": "OF-BAD", "kind": "training_body", "name": "x", "siret": bad_siret, "region": ""},
        bad="siret",
    )
    w.row(
        {
            "id": "OF-ODD",
            "kind": "bakery",
            "name": "x",
            "siret": make_siret("9876543210002"),
            "region": "",
        },
        bad="kind",
    )
    w.close()

    w = _Writer(files, ImportFile.AGENTS)

    def agent(login: str, org: str, roles: str, bad: str | None = None, email: str = "") -> None:
        w.row(
            {
                "login": login,
                "email": email or f"{login}@example.fr",
                "org_id": org,
                "roles": roles,
                "end_date": "",
                "training_valid_until": "",
            },
            bad=bad,
        )

    agent("adv.ml", "ML-NORD", "advisor")
    agent("adv2.ml", "ML-NORD", "advisor")
    agent("adv.ce", "CE-75", "advisor")
    agent("tm.dupont", "OF-DUPONT", "training_manager")
    agent("rgc.ml", "ML-NORD", "advisor account_manager")  # privileged: four eyes
    agent("sec.national", "AG-75", "security_officer")  # privileged: four eyes
    agent("ghost", "ML-NOWHERE", "advisor", bad="org_id")
    agent("wrong.role", "ML-NORD", "training_manager", bad="roles")
    agent("pilot", "ML-NORD", "pilot", bad="roles")
    agent("no.mail", "ML-NORD", "advisor", bad="email", email="not-an-address")
    agent("Bad Login", "ML-NORD", "advisor", bad="login")
    w.close()

    w = _Writer(files, ImportFile.PERSONS)
    for n in range(1, PERSONS + 1):
        w.row(person_row(n))
    good = person_row(PERSONS + 1)
    wrong_key = good["nir"][:13] + f"{(int(good['nir'][13:]) + 1) % 100:02d}"
    w.row(person_row(PERSONS + 1, nir=wrong_key), bad="nir")
    w.row(person_row(PERSONS + 2, ft_id="12345"), bad="ft_id")
    w.row(person_row(PERSONS + 3, birth_date="2001-02-30"), bad="birth_date")
    w.row(
        person_row(PERSONS + 4, birth_date=(today + dt.timedelta(days=3)).isoformat()),
        bad="birth_date",
    )
    w.row(person_row(PERSONS + 5, kind="retired"), bad="kind")
    w.row(person_row(PERSONS + 6, registration_status="deregistered"), bad="deregistration_date")
    w.row(person_row(PERSONS + 7, postcode="7500"), bad="postcode")
    w.row(person_row(PERSONS + 8, registration_date="15/01/2024"), bad="registration_date")
    w.raw(b"0000009K,job_seeker,too,few,columns\n", bad="columns")
    w.raw(
        ("0000010L,job_seeker," + person_row(PERSONS + 9)["nir"] + ",Nom\xff").encode("latin-1")
        + b",Pr,1990-01-01,a@example.fr,0600000000,1 rue,75002,Paris,registered,2024-01-15,,\n",
        bad="last_name",
    )
    w.close()

    w = _Writer(files, ImportFile.TRAININGS)
    for t in (101, 102):
        w.row(
            {
                "id": str(t),
                "org_id": "OF-DUPONT",
                "title": f"Formation {t}",
                "start_date": "2026-09-01",
                "end_date": "2027-03-31",
            }
        )
    w.row(
        {
            "id": "103",
            "org_id": "ML-NORD",
            "title": "x",
            "start_date": "2026-09-01",
            "end_date": "2027-03-31",
        },
        bad="org_id",
    )
    w.row(
        {
            "id": "104",
            "org_id": "OF-DUPONT",
            "title": "x",
            "start_date": "2026-09-01",
            "end_date": "2026-08-01",
        },
        bad="end_date",
    )
    w.row(
        {
            "id": "-5",
            "org_id": "OF-DUPONT",
            "title": "x",
            "start_date": "2026-09-01",
            "end_date": "2026-10-01",
        },
        bad="id",
    )
    w.close()

    w = _Writer(files, ImportFile.ENROLMENTS)
    for n in range(1, ENROLLED + 1):
        w.row(
            {
                "training_id": str(101 + n % 2),
                "ft_id": ft_id_from_number(n),
                "start_date": "2026-09-01",
                "end_date": "2027-03-31",
            }
        )
    w.row(
        {
            "training_id": "999",
            "ft_id": ft_id_from_number(1),
            "start_date": "2026-09-01",
            "end_date": "2027-03-31",
        },
        bad="training_id",
    )
    w.row(
        {
            "training_id": "101",
            "ft_id": ft_id_from_number(PERSONS + 1),
            "start_date": "2026-09-01",
            "end_date": "2027-03-31",
        },
        bad="ft_id",
    )
    w.close()

    w = _Writer(files, ImportFile.ASSIGNMENTS)
    for n in range(1, ML_ASSIGNED + 1):
        ft = ft_id_from_number(1000 + n)
        files.ml_people.add(ft)
        w.row({"advisor_login": "adv.ml", "ft_id": ft, "start_date": "2026-01-05", "end_date": ""})
    # Ended upstream already: listed, but not in the portfolio.
    w.row(
        {
            "advisor_login": "adv.ml",
            "ft_id": ft_id_from_number(1500),
            "start_date": "2025-01-05",
            "end_date": "2025-12-31",
        }
    )
    # Starts next month: not yet in the portfolio either.
    w.row(
        {
            "advisor_login": "adv.ml",
            "ft_id": ft_id_from_number(1501),
            "start_date": (today + dt.timedelta(days=30)).isoformat(),
            "end_date": "",
        }
    )
    for n in range(1, CE_ASSIGNED + 1):
        ft = ft_id_from_number(2000 + n)
        files.ce_people.add(ft)
        w.row({"advisor_login": "adv.ce", "ft_id": ft, "start_date": "2026-02-01", "end_date": ""})
    w.row(
        {
            "advisor_login": "nobody",
            "ft_id": ft_id_from_number(1),
            "start_date": "2026-01-05",
            "end_date": "",
        },
        bad="advisor_login",
    )
    w.row(
        {
            "advisor_login": "tm.dupont",
            "ft_id": ft_id_from_number(2),
            "start_date": "2026-01-05",
            "end_date": "",
        },
        bad="advisor_login",
    )
    w.row(
        {
            "advisor_login": "adv.ml",
            "ft_id": ft_id_from_number(PERSONS + 2),
            "start_date": "2026-01-05",
            "end_date": "",
        },
        bad="ft_id",
    )
    w.row(
        {
            "advisor_login": "adv.ml",
            "ft_id": ft_id_from_number(3),
            "start_date": "2026-02-10",
            "end_date": "2026-01-01",
        },
        bad="end_date",
    )
    w.close()
    return files


def drop_assignments(files: AgencyFiles, logins_ft: set[tuple[str, str]]) -> None:
    """Rewrite assignments.csv without these (adviser, ft_id) rows (removed upstream)."""
    rows = files.rows_of(ImportFile.ASSIGNMENTS)
    kept = [rows[0]] + [r for r in rows[1:] if (r[0], r[1]) not in logins_ft]
    with (files.directory / ImportFile.ASSIGNMENTS.value).open(
        "w", encoding="utf-8", newline=""
    ) as f:
        csv.writer(f).writerows(kept)
