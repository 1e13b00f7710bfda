"""Neumaier compensated addition and window resync (IND §1.3), as compiled helpers."""

from __future__ import annotations

from ._core import FloatArray, kernel

__all__ = ["nadd", "ring_sum"]


@kernel
def nadd(s: float, k: float, v: float) -> tuple[float, float]:
    """One compensated addition of ``v`` to the sum ``s`` with compensation ``k``."""
    t = s + v
    if abs(s) >= abs(v):  # noqa: SIM108 - the two branches of IND §1.3, as written
        k = k + ((s - t) + v)
    else:
        k = k + ((v - t) + s)
    return t, k


@kernel
def ring_sum(ring: FloatArray, head: int, n: int) -> tuple[float, float]:
    """Compensated sum of a full ring of ``n`` values, oldest (at ``head``) to newest."""
    s = 0.0
    k = 0.0
    j = head
    for _ in range(n):
        s, k = nadd(s, k, ring[j])
        j += 1
        if j == n:
            j = 0
    return s, k
