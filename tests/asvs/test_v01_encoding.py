"""ASVS 5.0 chapter V1, encoding and sanitization: what reaches an interpreter (HTML, JSON,
SQL, mail headers) is encoded for it at the last step, and nothing runs code built from input."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rempart.kernel.clock import ManualClock
from rempart.web.ui.templating import env
from tests.asvs.conftest import AgentClient
from tests.factories import World
from tests.support import aio
from tests.support.signin import client_for, give_credentials, sign_in

SRC = Path(__file__).resolve().parents[2] / "src"
HOSTILE = "</p><script>alert(1)</script>{{ 7*7 }}{% raw %}\"' onmouseover=x"


def _runtime_modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted((SRC / "rempart").rglob("*.py"))
    ]


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def _write_hostile_note(agent: AgentClient, world: World) -> tuple[TestClient, str]:
    adviser = agent("ml.adv1")
    ft_id = world.persons["youth"].ft_id
    r = adviser.post(f"/api/v1/persons/{ft_id}/notes", json={"text": HOSTILE})
    assert r.status_code == 201, r.text
    return adviser, ft_id


def test_stored_markup_is_escaped_where_the_page_is_rendered(
    agent: AgentClient, world: World, app: FastAPI, clock: ManualClock
) -> None:
    """A note holding HTML, a script and template syntax comes back as text in the person's
    page: escaped by the template engine at the last step, never interpreted
    (ASVS V1.1.2, V1.2.1, V1.3.7, V3.2.2)."""
    _, ft_id = _write_hostile_note(agent, world)
    browser = client_for(app)
    sign_in(browser, give_credentials(world.engine, "ml.adv1"), clock)
    page = browser.get(f"/personnes/{ft_id}")
    assert page.status_code == 200
    assert "Aucune note" not in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "{{ 7*7 }}" in page.text
    assert ">49<" not in page.text
    assert "&#34;&#39; onmouseover=x" in page.text  # quotes encoded for attribute contexts too


def test_the_template_environment_escapes_every_string() -> None:
    """Autoescape is on for every template, files and strings alike (ASVS V1.2.1)."""
    assert env.from_string("{{ v }}").render(v="<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_json_answers_carry_input_exactly_without_changing_the_structure(
    agent: AgentClient, world: World
) -> None:
    """The same note read back through the API is valid JSON holding the exact text: the
    serializer escapes quotes and control characters (ASVS V1.2.3)."""
    adviser, ft_id = _write_hostile_note(agent, world)
    record = adviser.get(f"/api/v1/persons/{ft_id}", params={"purpose": "youth_follow_up"})
    assert record.status_code == 200, record.text
    notes = json.loads(record.content)["follow_up_notes"]
    assert any(n["text"] == HOSTILE for n in notes)


def test_sql_metacharacters_are_data_not_query(agent: AgentClient, world: World) -> None:
    """Quotes, comments and wildcards in identifiers and logins reach the database as bound
    parameters: they match nothing and break nothing (ASVS V1.2.4)."""
    manager = agent("tm.dupont")
    for hostile in ("0412345K' OR '1'='1", "%", "_______K", "1; DROP TABLE persons--"):
        r = manager.get(f"/api/v1/persons/{hostile}")
        assert r.status_code in (400, 404), (hostile, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")
    login = agent("ag.sec").post(
        "/api/v1/auth/login", json={"login": "x' OR '1'='1' --", "password": "p"}
    )
    assert login.status_code == 401
    assert agent("tm.dupont").get("/api/v1/portfolio").status_code == 200  # tables intact


# The one process the runtime starts: the journal's writer, this interpreter on a fixed module.
WRITER_PROCESS = SRC / "rempart" / "journal" / "adapters" / "writer_process.py"


def test_the_runtime_runs_no_os_command_and_no_dynamic_code() -> None:
    """No module of the runtime imports a way to run OS commands, nor calls eval/exec/compile,
    nor deserializes with pickle, marshal or YAML's loader (ASVS V1.2.5, V1.3.2, V1.5.2). The
    journal's writer process is the one exception to the first, checked below."""
    forbidden_modules = {"subprocess", "pickle", "marshal", "shelve", "yaml", "dill"}
    for path, tree in _runtime_modules():
        allowed = {"subprocess"} if path == WRITER_PROCESS else set()
        assert not (_imported(tree) & (forbidden_modules - allowed)), path
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, (
                    path,
                    node.lineno,
                )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in {"system", "popen", "spawnv", "execv"}, (
                    path,
                    node.lineno,
                )


def test_the_writer_process_is_a_fixed_command_without_a_shell() -> None:
    """The journal's writer process runs ``sys.executable -m`` its own module: its argument
    list is a constant, no call passes ``shell``, and nothing from a request reaches it (its
    configuration goes through its pipe) (ASVS V1.2.5)."""
    tree = ast.parse(WRITER_PROCESS.read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "subprocess"
    ]
    assert calls, "the writer process is started with subprocess"
    for call in calls:
        assert isinstance(call.args[0], ast.Name), ast.unparse(call)
        assert call.args[0].id == "_CHILD", ast.unparse(call)
        assert "shell" not in {k.arg for k in call.keywords}, ast.unparse(call)
    constant = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "_CHILD" for t in node.targets)
    )
    assert ast.unparse(constant.value) == (
        "(sys.executable, '-m', 'rempart.journal.adapters.writer_process')"
    )


def test_mail_headers_cannot_be_injected(agent: AgentClient) -> None:
    """An address with a line break (a Bcc smuggled into the enrolment mail) is refused before
    any mail is composed (ASVS V1.3.11)."""
    manager = agent("am.dupont", fresh=True)
    for email in ("new@example.fr\r\nBcc: thief@evil.example", "new@example.fr\nX: y"):
        r = manager.post(
            "/api/v1/accounts",
            json={"login": "nouveau.agent", "email": email, "roles": ["training_manager"]},
        )
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")


def test_overlong_and_huge_numbers_are_refused(agent: AgentClient) -> None:
    """Sizes and pages are bounded integers: a number past the range is a 400, never an
    overflow, a 500 or an unbounded query (ASVS V1.4.2, V1.3.3)."""
    manager = agent("tm.dupont")
    for params in ({"size": 10**30}, {"page": -1}, {"size": "1e9"}, {"page": 2**63}):
        r = manager.get("/api/v1/portfolio", params=params)
        assert r.status_code == 400, (params, r.status_code)
    note = agent("ml.adv1").post("/api/v1/persons/0000000A/notes", json={"text": "x" * 4001})
    assert note.status_code == 400


def test_identifiers_are_decoded_once(agent: AgentClient, world: World) -> None:
    """A percent-encoded identifier is decoded once by the server and then validated: an
    encoded valid ft_id reads like the plain one, a doubly encoded one stays malformed, and
    an encoded path separator gets a refusal, never a record (ASVS V1.1.1, V1.2.2). Sent as a
    server receives it (httpx's ASGI transport): Starlette's TestClient decodes twice."""
    app = agent("tm.dupont").app
    ft_id = world.persons["trainee"].ft_id
    once = "".join(f"%{ord(c):02X}" for c in ft_id)
    twice = once.replace("%", "%25")

    async def ask() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            return [
                await c.get(f"/api/v1/persons/{path}")
                for path in (ft_id, once, twice, f"{ft_id}%2Fnotes")
            ]

    plain, encoded, double, smuggled = aio.run(ask())
    assert plain.status_code == 200, plain.text
    assert encoded.status_code == 200
    assert encoded.json()["ft_id"] == ft_id
    assert double.status_code == 400, double.text
    assert smuggled.status_code in (400, 404, 405)
    assert smuggled.headers["content-type"].startswith("application/problem+json")
