"""RFC 9162 Merkle trees: tree heads, inclusion proofs, the frontier (ASVS V16.4.2: logs
cannot be modified unnoticed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.journal.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_of,
    split_point,
    subtree_root,
    tree_head,
    verify_consistency,
    verify_inclusion,
)
from tests.support import transparency

# The eight entries of the Certificate Transparency reference tests (RFC 6962 hashing, which
# RFC 9162 keeps unchanged).
DATA = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
PUBLISHED_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


L = [sha(b"\x00" + d) for d in DATA]


def nd(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


# Tree heads written out by hand from RFC 9162 §2.1.1: MTH(D[n]) splits at k, the largest
# power of two smaller than n.
N01 = nd(L[0], L[1])
N23 = nd(L[2], L[3])
N03 = nd(N01, N23)
N45 = nd(L[4], L[5])
N67 = nd(L[6], L[7])
BY_HAND = {
    1: L[0],
    2: N01,
    3: nd(N01, L[2]),
    4: N03,
    5: nd(N03, L[4]),
    6: nd(N03, N45),
    7: nd(N03, nd(N45, L[6])),
    8: nd(N03, nd(N45, N67)),
}


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"abc") == sha(b"\x00abc")
    assert node_hash(b"a" * 32, b"b" * 32) == sha(b"\x01" + b"a" * 32 + b"b" * 32)
    assert sha(b"") == EMPTY_ROOT
    assert root_of([]) == EMPTY_ROOT


@pytest.mark.parametrize("n", range(1, 9))
def test_tree_heads_match_the_hand_derivation(n: int) -> None:
    assert tree_head(DATA[:n]) == BY_HAND[n]
    assert root_of(L[:n]) == BY_HAND[n]


@pytest.mark.parametrize("n", range(1, 9))
def test_tree_heads_match_the_published_reference_roots(n: int) -> None:
    assert tree_head(DATA[:n]).hex() == PUBLISHED_ROOTS[n - 1]


def test_split_point_is_the_largest_power_of_two_below() -> None:
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(ValueError, match="two leaves"):
        split_point(1)


def _source(leaves: list[bytes]):  # type: ignore[no-untyped-def]
    return lambda s, e: root_of(leaves[s:e])


# Inclusion paths written out by hand (RFC 9162 §2.1.3.1), leaf-side sibling first.
PATHS_BY_HAND = {
    (0, 1): [],
    (0, 2): [L[1]],
    (2, 3): [N01],
    (0, 3): [L[1], L[2]],
    (4, 5): [N03],
    (5, 6): [L[4], N03],
    (6, 7): [N45, N03],
    (0, 8): [L[1], N23, nd(N45, N67)],
    (5, 8): [L[4], N67, N03],
    (7, 8): [L[6], N45, N03],
}


@pytest.mark.parametrize(("index", "size"), list(PATHS_BY_HAND))
def test_inclusion_paths_match_the_hand_derivation(index: int, size: int) -> None:
    path = inclusion_path(index, size, _source(L))
    assert path == PATHS_BY_HAND[(index, size)]
    assert verify_inclusion(index, size, L[index], path, BY_HAND[size])


def test_inclusion_paths_match_the_published_reference_proofs() -> None:
    assert [p.hex() for p in inclusion_path(0, 8, _source(L))] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in inclusion_path(5, 8, _source(L))] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]


def test_every_leaf_proves_in_every_size_up_to_8() -> None:
    for size in range(1, 9):
        for index in range(size):
            path = inclusion_path(index, size, _source(L))
            assert verify_inclusion(index, size, L[index], path, BY_HAND[size])


def test_a_proof_fails_for_another_leaf_index_size_root_or_path() -> None:
    path = inclusion_path(5, 8, _source(L))
    root = BY_HAND[8]
    assert not verify_inclusion(5, 8, L[4], path, root)  # another leaf
    assert not verify_inclusion(4, 8, L[5], path, root)  # another position
    assert not verify_inclusion(5, 7, L[5], path, BY_HAND[7])  # another signed (size, root)
    assert not verify_inclusion(5, 8, L[5], path, BY_HAND[7])  # another root
    assert not verify_inclusion(5, 8, L[5], [*path, L[0]], root)  # too long
    assert not verify_inclusion(5, 8, L[5], path[:-1], root)  # too short
    assert not verify_inclusion(5, 8, L[5], [path[1], path[0], path[2]], root)  # reordered
    assert not verify_inclusion(8, 8, L[5], path, root)  # outside the tree
    assert root_from_inclusion(-1, 8, L[5], path) is None


@given(st.integers(min_value=1, max_value=300), st.data())
def test_proofs_round_trip_in_any_tree(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = inclusion_path(index, size, _source(leaves))
    assert verify_inclusion(index, size, leaves[index], path, root_of(leaves))
    assert len(path) <= size.bit_length()


def test_frontier_agrees_with_the_tree_head_and_reports_completed_subtrees() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    frontier = Frontier()
    completed = {}
    for n, leaf in enumerate(leaves, start=1):
        for level, idx, h in frontier.push(leaf):
            completed[(level, idx)] = h
        assert frontier.size == n
        assert frontier.root() == root_of(leaves[:n])
    for (level, idx), h in completed.items():
        assert h == root_of(leaves[idx << level : (idx + 1) << level])
    assert (8, 0) in completed  # the 256-leaf subtree
    rebuilt = Frontier.at(300, _source(leaves))
    assert rebuilt.hashes == frontier.hashes
    assert subtree_root(0, 300, _source(leaves)) == root_of(leaves)


def test_frontier_refuses_a_shape_that_does_not_fit_its_size() -> None:
    with pytest.raises(ValueError, match="set bit"):
        Frontier(3, [b"x" * 32])


# -- consistency proofs (RFC 9162 §2.1.4) ---------------------------------------------------------

# The consistency proofs of the Certificate Transparency reference tests over the eight entries
# above (transparency-dev/merkle, proof/verify_test.go), as (first, second, proof).
PUBLISHED_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def _reference_source(leaves: list[bytes]) -> Callable[[int, int], bytes]:
    return lambda start, end: root_of(leaves[start:end])


def _corrupted(
    m: int, n: int, old: bytes, new: bytes, proof: list[bytes]
) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    """The reference tests' corruptions of a good proof (each must fail)."""
    wrong = [
        (m - 1, n, old, new, proof),
        (m + 1, n, old, new, proof),
        (m ^ 2, n, old, new, proof),
        (m, n * 2, old, new, proof),
        (m, n // 2, old, new, proof),
        (m, n, b"WrongRoot", new, proof),
        (m, n, old, b"WrongRoot", proof),
        (m, n, new, old, proof),
        (m, n, old, new, []),
        (m, n, old, new, [*proof, b""]),
        (m, n, old, new, [*proof, old]),
        (m, n, old, new, [*proof, new]),
        (m, n, old, new, [b"", *proof]),
        (m, n, old, new, [old, *proof]),
        (m, n, old, new, [new, *proof]),
        (m, n, old, new, [proof[0], *proof]),
        (m, n, old, new, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        wrong.append((m, n, old, new, flipped))
    return wrong


@pytest.mark.parametrize(("m", "n", "proof"), PUBLISHED_CONSISTENCY)
def test_consistency_proofs_match_the_published_reference_vectors(
    m: int, n: int, proof: list[str]
) -> None:
    expected = [bytes.fromhex(h) for h in proof]
    assert consistency_path(m, n, _reference_source(L)) == expected
    old, new = bytes.fromhex(PUBLISHED_ROOTS[m - 1]), bytes.fromhex(PUBLISHED_ROOTS[n - 1])
    assert verify_consistency(m, n, old, new, expected)
    assert transparency.consistent(m, n, old, new, expected)
    if expected:  # the reference tests corrupt only non-trivial proofs
        for case in _corrupted(m, n, old, new, expected):
            assert not verify_consistency(*case), case
            assert not transparency.consistent(*case), case


def test_trivial_consistency_cases_follow_the_reference_tests() -> None:
    a, b, empty = b"don't care 1", b"don't care 2", EMPTY_ROOT
    assert verify_consistency(0, 0, a, a, [])
    assert verify_consistency(0, 1, a, b, [])
    assert verify_consistency(1, 1, b, b, [])
    for m, n, old, new, proof in [
        (0, 0, a, b, []),
        (1, 1, a, b, []),
        (1, 0, a, b, []),
        (2, 1, a, b, []),
        (1, 2, a, b, []),
        (0, 0, empty, empty, [empty]),
        (0, 1, empty, empty, [empty]),
        (1, 1, empty, empty, [empty]),
    ]:
        assert not verify_consistency(m, n, old, new, proof), (m, n)
        assert not transparency.consistent(m, n, old, new, proof), (m, n)
    with pytest.raises(ValueError, match="first <= second"):
        consistency_path(3, 2, _reference_source(L))


SIZES = 300  # every pair of tree sizes up to this many leaves


def test_every_pair_of_sizes_up_to_a_few_hundred_leaves_is_proved_consistent() -> None:
    """ASVS V16.4.2: a proof from each size m to each later size n, checked by the project's
    verifier and by the independent one; a root from another tree never passes."""
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(SIZES)]
    perfect: dict[tuple[int, int], bytes] = {}

    def source(start: int, end: int) -> bytes:  # aligned perfect subtrees, memoised
        key = (start, end)
        if key not in perfect:
            perfect[key] = (
                leaves[start]
                if end - start == 1
                else node_hash(source(start, (start + end) // 2), source((start + end) // 2, end))
            )
        return perfect[key]

    frontier = Frontier()
    roots = [EMPTY_ROOT]
    for leaf in leaves:
        frontier.push(leaf)
        roots.append(frontier.root())
    checked = 0
    for n in range(SIZES + 1):
        for m in range(n + 1):
            proof = consistency_path(m, n, source)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            assert transparency.consistent(m, n, roots[m], roots[n], proof), (m, n)
            if 0 < m < n:
                forked = roots[m - 1] if m > 1 else roots[n]
                assert not verify_consistency(m, n, forked, roots[n], proof), (m, n)
            checked += 1
    assert checked == (SIZES + 1) * (SIZES + 2) // 2


@given(st.integers(1, 64), st.data())
def test_a_proof_never_verifies_against_a_rewritten_tree(size: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, size))
    n = data.draw(st.integers(m, size + 8))
    original = [leaf_hash(bytes([i])) for i in range(n)]
    changed = data.draw(st.integers(0, m - 1))  # rewrite one entry the old tree covers
    rewritten = list(original)
    rewritten[changed] = leaf_hash(b"rewritten")
    proof = consistency_path(m, n, _reference_source(rewritten))
    old_root = root_of(original[:m])
    assert not verify_consistency(m, n, old_root, root_of(rewritten), proof)
    assert not transparency.consistent(m, n, old_root, root_of(rewritten), proof)
