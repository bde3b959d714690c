"""RFC 9162 Merkle trees over the journal: tree heads, inclusion and consistency proofs, a
compact frontier.

Leaf hash ``H(0x00 ‖ entry)``, node hash ``H(0x01 ‖ left ‖ right)``, SHA-256. The tree head of
``n`` leaves splits at ``k``, the largest power of two *smaller* than ``n`` (RFC 9162 §2.1.1),
so the tree over a journal that keeps growing never changes shape under an existing leaf and
an inclusion proof against a signed tree head stays checkable by anyone, with nothing but a
hash function.

Large journals never hold every leaf in memory: subtree hashes are asked for through a
``SubtreeSource`` callable (stored perfect subtrees, or leaves read back from storage).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: MTH({}) = HASH()

# (start, end) -> MTH(D[start:end]); the tree functions below only ask for ranges that are
# either perfect aligned subtrees or the right edge of the tree.
SubtreeSource = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """``H(0x00 ‖ data)``: the hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``H(0x01 ‖ left ‖ right)``: the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` ≥ 2)."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves (RFC 9162 §2.1.1), computed level by level."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    # Pairing left to right and carrying an odd last node up unchanged gives exactly the
    # RFC's split at the largest power of two below n.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def tree_head(data: Sequence[bytes]) -> bytes:
    """MTH over raw entries (convenience for tests and small trees)."""
    return root_of([leaf_hash(d) for d in data])


def subtree_root(start: int, end: int, source: SubtreeSource) -> bytes:
    """MTH(D[start:end]) for a range inside a tree, asking ``source`` only for aligned parts."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0:
        return source(start, end)
    k = split_point(n)
    return node_hash(source(start, start + k), subtree_root(start + k, end, source))


def inclusion_path(index: int, size: int, source: SubtreeSource) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-side sibling first."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root, remembering the sibling of each subtree we descend into.
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            path.append(subtree_root(start + k, end, source))
            end = start + k
        else:
            path.append(subtree_root(start, start + k, source))
            start += k
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion path leads to (RFC 9162 §2.1.3.2), or None if it cannot fit."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """True when ``path`` proves ``leaf`` is at ``index`` in the tree of ``size`` with ``root``."""
    return root_from_inclusion(index, size, leaf, path) == root


def consistency_path(first: int, second: int, source: SubtreeSource) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1): the hashes that show the tree of ``first``
    leaves is a prefix of the tree of ``second`` leaves.

    Empty when ``first`` is 0 or equal to ``second`` (nothing to prove). ``source`` gives the
    subtree hashes, as for ``inclusion_path``.
    """
    if not 0 <= first <= second:
        raise ValueError("a consistency proof needs 0 <= first <= second")
    if first in (0, second):
        return []
    path: list[bytes] = []
    start, end, m, complete = 0, second, first, True
    # SUBPROOF(m, D[start:end], complete), unrolled: each step keeps one side of the split.
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(subtree_root(start + k, end, source))
            end = start + k
        else:
            path.append(subtree_root(start, start + k, source))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(subtree_root(start, end, source))
    path.reverse()
    return path


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """True when ``path`` proves the tree of ``first`` leaves with ``first_root`` is a prefix of
    the tree of ``second`` leaves with ``second_root`` (RFC 9162 §2.1.4.2)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # every tree extends the empty one
    if not path or any(len(p) != HASH_SIZE for p in path):
        return False
    nodes = list(path)
    if first & (first - 1) == 0:  # a power of two: the old tree is a node of the new one
        nodes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class Frontier:
    """The compact range of a growing tree: one perfect subtree per set bit of its size.

    Appending a leaf costs one hash plus one per completed subtree; ``root()`` folds the
    frontier right to left, which is the RFC's tree head for any size.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)  # largest (leftmost) subtree first

    @classmethod
    def at(cls, size: int, source: SubtreeSource) -> Frontier:
        """The frontier of the first ``size`` leaves, built from ``source``'s perfect subtrees."""
        hashes = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                hashes.append(source(start, start + (1 << level)))
                start += 1 << level
        return cls(size, hashes)

    def copy(self) -> Frontier:
        """An independent copy (appends to it leave this one untouched)."""
        return Frontier(self.size, self.hashes)

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; return the perfect subtrees it completed as (level, index, hash)."""
        completed: list[tuple[int, int, bytes]] = []
        self.size += 1
        m = self.size
        h = leaf
        level = 0
        while not m & 1:
            h = node_hash(self.hashes.pop(), h)
            level += 1
            m >>= 1
            completed.append((level, (self.size >> level) - 1, h))
        self.hashes.append(h)
        return completed

    def root(self) -> bytes:
        """The tree head of the leaves pushed so far."""
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r
