"""Property tests of the C2SP formats read from outside (``journal.notes``): signed notes,
checkpoints, verifier keys and witness cosignatures. Any input is the format's value or a
``NoteError``, never another exception; what is written reads back the same (ASVS 5.0 V2.2.1
validated input, V16.4.2 tamper-evident logs checkable by anyone)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rempart.journal.notes import (
    ED25519,
    KEY_HASH_SIZE,
    Note,
    NoteError,
    NoteSignature,
    TreeHead,
    cosignature_bytes,
    parse_checkpoint,
    parse_note,
    parse_verifier_key,
    split_cosignature,
    verifier_key,
)

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Z", "C"], exclude_characters="+"),
    min_size=1,
    max_size=20,
)
line_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=30
)
note_texts = st.lists(line_text, min_size=1, max_size=5).map(lambda ls: "\n".join(ls) + "\n")
signatures = st.builds(
    NoteSignature,
    names,
    st.binary(min_size=KEY_HASH_SIZE, max_size=KEY_HASH_SIZE),
    st.binary(min_size=1, max_size=80),
)
near_notes = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.builds(
        lambda t, s, junk: t + "\n" + "".join(x.line() for x in s) + junk,
        note_texts,
        st.lists(signatures, max_size=3),
        st.sampled_from(["", "\n", " ", "—", "\x00", "— x\n"]),
    ),
)


def _try(parse: object, value: object) -> object:
    try:
        return parse(value)  # type: ignore[operator]
    except NoteError as exc:
        return exc


@given(near_notes)
@settings(max_examples=300)
def test_any_input_is_a_note_or_a_note_error(data: str | bytes) -> None:
    result = _try(parse_note, data)
    assert isinstance(result, Note | NoteError)


@given(note_texts, st.lists(signatures, min_size=1, max_size=4))
def test_a_note_reads_back_as_written(text: str, sigs: list[NoteSignature]) -> None:
    if "\n\n" in text:
        return  # the last blank line starts the signatures: such a text is another note
    note = Note(text, tuple(sigs))
    assert parse_note(note.encode()) == note
    assert parse_note(note.encode().decode()) == note


@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda origin, size, root, ext: f"{origin}\n{size}\n{root}\n{ext}",
            line_text,
            st.one_of(st.integers(min_value=-5, max_value=10**30).map(str), st.text(max_size=8)),
            st.one_of(
                st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()), line_text
            ),
            st.sampled_from(["", "ext\n", "\n", "\n\n"]),
        ),
    )
)
@settings(max_examples=300)
def test_any_text_is_a_checkpoint_or_a_note_error(text: str) -> None:
    result = _try(parse_checkpoint, text)
    assert isinstance(result, TreeHead | NoteError)
    if isinstance(result, TreeHead):
        assert result.size >= 0
        assert len(result.root) == 32
        assert result.text() == text


@given(st.text(alphabet="0123456789", min_size=1, max_size=6000).map(lambda d: f"log\n{d}\n"))
@example("log\n" + "9" * 5000 + "\n")
def test_a_tree_size_of_any_length_is_a_checkpoint_or_a_note_error(head: str) -> None:
    """Python refuses to read decimal strings of more than 4,300 digits as an int: that must
    still be the format's refusal."""
    text = head + base64.b64encode(bytes(32)).decode() + "\n"
    assert isinstance(_try(parse_checkpoint, text), TreeHead | NoteError)


@given(names, st.integers(min_value=0, max_value=2**64 - 1), st.binary(min_size=32, max_size=32))
def test_a_checkpoint_reads_back_as_written(origin: str, size: int, root: bytes) -> None:
    head = TreeHead(origin, size, root)
    assert parse_checkpoint(head.text()) == head


@given(st.one_of(st.text(max_size=120), st.builds("+".join, st.lists(line_text, max_size=4))))
def test_any_text_is_a_verifier_key_or_a_note_error(text: str) -> None:
    assert _try(parse_verifier_key, text).__class__.__name__ in ("VerifierKey", "NoteError")


@given(names, st.binary(min_size=32, max_size=32))
def test_a_verifier_key_reads_back_and_its_hash_is_checked(name: str, public: bytes) -> None:
    key = verifier_key(name, ED25519, public)
    text = f"{name}+{key.key_hash.hex()}+{base64.b64encode(bytes([ED25519]) + public).decode()}"
    assert parse_verifier_key(text) == key
    wrong = f"{name}+{'0' * 8 if key.key_hash.hex() != '0' * 8 else '1' * 8}+" + text.split("+")[2]
    with pytest.raises(NoteError):
        parse_verifier_key(wrong)


@given(st.binary(max_size=100))
def test_any_bytes_are_a_cosignature_or_a_note_error(raw: bytes) -> None:
    result = _try(split_cosignature, raw)
    if not isinstance(result, NoteError):
        timestamp, signature = result  # type: ignore[misc]
        assert cosignature_bytes(timestamp, signature) == raw
