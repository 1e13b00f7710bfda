"""As-of mapping of higher-timeframe values onto anchors without look-ahead (IND §7.3).

A value computed on an HTF candle is visible at anchor ``a`` iff the candle's ``close_time ≤ a``.
For Pine parity the anchor is the chart bar's open time; for event-driven code it is the event's
timestamp.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ._core import FloatArray, IntArray, check_header, decode_float, encode_float

__all__ = ["AsOf", "asof", "asof_index"]


def asof_index(htf_close_times: npt.ArrayLike, anchors: npt.ArrayLike) -> IntArray:
    """Index of the latest HTF value visible at each anchor; ``-1`` where none is."""
    closes = np.asarray(htf_close_times, dtype=np.int64)
    if len(closes) > 1 and bool(np.any(np.diff(closes) < 0)):
        raise ValueError("htf_close_times must be non-decreasing")
    idx: IntArray = np.searchsorted(closes, np.asarray(anchors, dtype=np.int64), side="right") - 1
    return idx


def asof(
    htf_close_times: npt.ArrayLike,
    values: npt.ArrayLike,
    anchors: npt.ArrayLike,
    default: float = float("nan"),
) -> FloatArray:
    """The HTF value visible at each anchor, ``default`` before any is visible."""
    vals = np.asarray(values, dtype=np.float64)
    if len(vals) != len(np.asarray(htf_close_times)):
        raise ValueError("values and htf_close_times differ in length")
    idx = asof_index(htf_close_times, anchors)
    out = np.full(idx.shape, default, dtype=np.float64)
    seen = idx >= 0
    out[seen] = vals[idx[seen]]
    return out


class AsOf:
    """Streaming as-of lookup: :meth:`push` HTF outputs as they are emitted, ask
    :meth:`value_at` with non-decreasing anchors. Entries no anchor can see any more are dropped.
    """

    def __init__(self, default: float | int | bool | None = None) -> None:
        self.default = default
        self._entries: deque[tuple[int, Any]] = deque()
        self._last_anchor: int | None = None

    def params(self) -> dict[str, Any]:
        """``{"default": default}``."""
        d = self.default
        return {"default": encode_float(d) if isinstance(d, float) else d}

    def push(self, close_time: int, value: Any) -> None:
        """Record the value computed on the HTF candle that closes at ``close_time``."""
        if self._entries and close_time < self._entries[-1][0]:
            raise ValueError("AsOf.push: close_time went backwards")
        self._entries.append((int(close_time), value))

    def value_at(self, anchor: int) -> Any:
        """The latest pushed value with ``close_time ≤ anchor``; ``default`` if none."""
        if self._last_anchor is not None and anchor < self._last_anchor:
            raise ValueError("AsOf.value_at: anchors must be non-decreasing")
        self._last_anchor = int(anchor)
        entries = self._entries
        while len(entries) >= 2 and entries[1][0] <= anchor:
            entries.popleft()
        if entries and entries[0][0] <= anchor:
            return entries[0][1]
        return self.default

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state (float values with NaN as null)."""
        return {
            "indicator": "AsOf",
            "params": self.params(),
            "last_anchor": self._last_anchor,
            "entries": [
                [ct, {"f": encode_float(v)} if _is_float(v) else {"v": v}]
                for ct, v in self._entries
            ],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state`."""
        check_header("AsOf", self.params(), state)
        entries: deque[tuple[int, Any]] = deque()
        for ct, box in state["entries"]:
            entries.append((int(ct), decode_float(box["f"]) if "f" in box else box["v"]))
        self._entries = entries
        self._last_anchor = state["last_anchor"]


def _is_float(v: object) -> bool:
    return isinstance(v, float | np.floating)
