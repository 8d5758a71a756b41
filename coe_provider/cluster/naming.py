"""Node identity: which indices of a group are live, and how a node's resources are named.

A node's resources are named ``{cluster}-{group}-{index}``. The live indices of a group are the
first ``count`` indices not listed in ``remove``; retired indices are never reused, so scaling
up only adds indices at the end and retiring a node moves no other node.
"""

from __future__ import annotations

from collections.abc import Iterable


def live_indices(count: int, remove: Iterable[int] = ()) -> list[int]:
    """The first ``count`` non-negative indices not in ``remove``, in ascending order."""
    retired = set(remove)
    indices: list[int] = []
    candidate = 0
    while len(indices) < count:
        if candidate not in retired:
            indices.append(candidate)
        candidate += 1
    return indices


def node_name(cluster: str, group: str, index: int) -> str:
    """The stable name of one node, shared by every resource that belongs to it."""
    return f"{cluster}-{group}-{index}"


def highest_index(count: int, remove: Iterable[int] = ()) -> int:
    """The largest index the group uses (for name-length checks); -1 for an empty group."""
    indices = live_indices(count, remove)
    return indices[-1] if indices else -1
