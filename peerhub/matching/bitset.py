"""Sets of small integers as Python ints: bit ``i`` set means slot ``i`` is in.

Set algebra on these (``&``, ``|``, ``& ~``) runs in C a machine word at a time:
100,000 groups are about 1,600 words, a few microseconds per operation. That is
what lets the index filter and rank without a Python loop over every group.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["count_levels", "from_slots", "to_slots"]


def from_slots(slots: Iterable[int]) -> int:
    """The bitset holding ``slots`` (built in one pass, not one shift per slot)."""
    items = list(slots)
    if not items:
        return 0
    buf = bytearray((max(items) >> 3) + 1)
    for s in items:
        buf[s >> 3] |= 1 << (s & 7)
    return int.from_bytes(buf, "little")


def to_slots(bits: int) -> list[int]:
    """The slots in ``bits``, ascending."""
    if not bits:
        return []
    if bits.bit_count() <= 4:
        out = []
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out
    text = bin(bits)[:1:-1]  # least significant bit first, without "0b"
    out = []
    i = text.find("1")
    while i >= 0:
        out.append(i)
        i = text.find("1", i + 1)
    return out


def count_levels(sets: list[int]) -> list[tuple[int, int]]:
    """For bitsets ``sets``, the slots in exactly ``j`` of them, for ``j`` from
    ``len(sets)`` down to 1, as ``(j, bits)`` pairs (empty levels left out).

    Uses a bit-sliced counter: each slot's count is kept in binary across
    ``planes`` and added to with a ripple-carry adder, all slots at once.
    """
    planes: list[int] = []
    for b in sets:
        carry = b
        for i, p in enumerate(planes):
            if not carry:
                break
            planes[i] = p ^ carry
            carry = p & carry
        if carry:
            planes.append(carry)
    any_ = 0
    for b in sets:
        any_ |= b
    levels: list[tuple[int, int]] = []
    for j in range(len(sets), 0, -1):
        if j >> len(planes):
            continue
        bits = any_
        for i, p in enumerate(planes):
            bits = bits & p if (j >> i) & 1 else bits & ~p
            if not bits:
                break
        if bits:
            levels.append((j, bits))
    return levels
