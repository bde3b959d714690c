"""Property tests of what a verifier reads from outside: inclusion proofs, checkpoints, the
entries' canonical form (ASVS 5.0 V16.4.2: logs cannot be altered unnoticed, V2.2.1:
validated input). The standalone verifier (``tools/verify_inclusion.py``) says OK only for a
genuine proof under the trusted key; any change or any malformed file is a FAIL with a
reason, never a traceback."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.journal.adapters.memory import MemoryJournal
from rempart.journal.merkle import inclusion_path, leaf_hash, root_from_inclusion, root_of
from rempart.journal.model import JournalEntry, entry_from_canonical
from rempart.journal.service import audit
from tests.support.journal import SIGNER, read


def _tool() -> ModuleType:
    path = Path(__file__).parents[3] / "tools" / "verify_inclusion.py"
    spec = importlib.util.spec_from_file_location("verify_inclusion", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
KEY_B64 = base64.b64encode(SIGNER.public_key).decode()


def _journal(size: int) -> MemoryJournal:
    journal = MemoryJournal(signer=SIGNER)
    for i in range(size):
        journal.append([read(i)])
    journal.checkpoint()
    return journal


JOURNAL = _journal(13)
PROOFS = [audit.prove(JOURNAL, seq) for seq in range(1, 14)]

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def test_every_genuine_proof_verifies() -> None:
    for proof in PROOFS:
        assert TOOL.verify(proof, KEY_B64) == []


def _paths(proof: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every (nested) key path of the proof, so a change can hit any field."""
    out: list[tuple[str, ...]] = []
    for key, value in proof.items():
        out.append((key,))
        if isinstance(value, dict):
            out.extend((key, *rest) for rest in _paths(value))
    return out


@given(st.sampled_from(PROOFS), st.data())
@settings(max_examples=300)
def test_any_changed_field_of_a_proof_fails_with_a_reason(
    proof: dict[str, Any], data: st.DataObject
) -> None:
    where = data.draw(st.sampled_from(_paths(proof)))
    if where in (("format",), ("public_key",)):
        return  # not read: the format is informative, the key given on the command line rules
    forged = copy.deepcopy(proof)
    holder: Any = forged
    for key in where[:-1]:
        holder = holder[key]
    value = data.draw(json_values)
    if value == holder[where[-1]]:
        return
    holder[where[-1]] = value
    failures = TOOL.verify(forged, KEY_B64)
    assert failures, (where, value)
    assert all(isinstance(f, str) and f for f in failures)


@given(json_values)
def test_any_json_as_a_proof_fails_with_a_reason(value: object) -> None:
    assert TOOL.verify(value, KEY_B64)


@given(st.sampled_from(PROOFS), st.binary(min_size=32, max_size=32))
def test_a_proof_under_another_key_fails(proof: dict[str, Any], key: bytes) -> None:
    if key == SIGNER.public_key:
        return
    assert TOOL.verify(proof, base64.b64encode(key).decode())


@given(
    st.integers(min_value=-3, max_value=40),
    st.integers(min_value=-3, max_value=40),
    st.lists(st.binary(min_size=32, max_size=32), max_size=8),
)
def test_any_index_size_and_path_lead_to_a_root_or_to_nothing(
    index: int, size: int, path: list[bytes]
) -> None:
    root = root_from_inclusion(index, size, leaf_hash(b"x"), path)
    assert root is None or len(root) == 32


@given(st.integers(min_value=1, max_value=40), st.data())
@settings(max_examples=200)
def test_a_path_proves_only_its_own_leaf_position_and_size(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    index = data.draw(st.integers(min_value=0, max_value=size - 1))

    def subtree(start: int, end: int) -> bytes:
        return root_of(leaves[start:end])

    root = root_of(leaves)
    path = inclusion_path(index, size, subtree)
    assert root_from_inclusion(index, size, leaves[index], path) == root
    other_index = data.draw(st.integers(min_value=0, max_value=size))
    other_size = data.draw(st.integers(min_value=1, max_value=size + 2))
    other_leaf = data.draw(st.sampled_from(leaves))
    if (other_index, other_size, other_leaf) != (index, size, leaves[index]):
        found = root_from_inclusion(other_index, other_size, other_leaf, path)
        # Another leaf never proves, and another position or size leads elsewhere, except
        # where RFC 9162 gives two positions the same path (the last leaf of a smaller tree).
        if other_leaf != leaves[index]:
            assert found != root
    if path:
        bent = [*path]
        i = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        bent[i] = bytes(b ^ 0xFF for b in bent[i])
        assert root_from_inclusion(index, size, leaves[index], bent) != root


@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_bytes_are_an_entry_or_a_value_error(data: bytes) -> None:
    try:
        entry = entry_from_canonical(data)
    except ValueError:
        return
    assert isinstance(entry, JournalEntry)


@given(st.sampled_from(PROOFS), st.sampled_from(list(read(0).__dataclass_fields__)), json_values)
@settings(max_examples=200)
def test_a_changed_field_of_a_canonical_entry_is_refused_or_read_as_changed(
    proof: dict[str, Any], field: str, value: object
) -> None:
    d = json.loads(proof["entry_canonical"])
    d[field] = value
    try:
        entry = entry_from_canonical(json.dumps(d).encode())
    except ValueError:
        return
    assert isinstance(entry, JournalEntry)
