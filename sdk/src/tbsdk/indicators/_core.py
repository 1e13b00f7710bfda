"""Shared machinery: input coercion, parameter checks, JSON state encoding, the streaming base.

Every indicator is one compiled kernel ``run(x, out, ..., p, ip, f, i, ring) -> int`` that loads
its state from small arrays, consumes a span of inputs and stores the state back. The vectorised
function calls it once on the whole array with fresh state; the streaming object calls it on a
one-element span with its persistent state. Same machine code, hence bit-identical outputs
(IND §1.1). A kernel returns ``-1`` or the index of an input that is not allowed (interior NaN).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
from numba import njit

from ..errors import ConfigError, TbError

__all__ = [
    "BoolArray",
    "FloatArray",
    "IndicatorInputError",
    "IntArray",
    "KernelIndicator",
    "SeriesIndicator",
    "as_input",
    "check_float",
    "check_header",
    "check_int",
    "decode_float",
    "encode_float",
    "kernel",
    "raise_bad",
    "raise_bad_update",
    "same_length",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_F = TypeVar("_F", bound=Callable[..., Any])


def kernel(fn: _F) -> _F:
    """Compile ``fn`` with the library's one set of numba flags.

    ``cache=True`` keeps compiled code between processes. ``fastmath`` stays off, so LLVM may
    neither reassociate nor contract ``a*b + c`` into a fused multiply-add (IND §1.1; a test
    checks the generated assembly). ``error_model="numpy"`` gives IEEE results for a division by
    zero instead of a Python exception, and removes a branch per division.
    """
    return njit(cache=True, fastmath=False, error_model="numpy")(fn)  # type: ignore[return-value]


class IndicatorInputError(TbError, ValueError):
    """An indicator received an input it must refuse: an interior NaN (IND §1.2) or a NaN
    field in a candle. The message names the indicator and the offending position."""


def raise_bad(name: str, bad: int, *, candle: bool = False) -> None:
    """Raise :class:`IndicatorInputError` when a kernel reported the bad index ``bad``."""
    if bad < 0:
        return
    if candle:
        msg = f"{name}: candle {bad} has a NaN field (a caller error at any position, IND §1.2)"
    else:
        msg = (
            f"{name}: NaN at index {bad} after the first finite input "
            "(interior NaN is a caller error, IND §1.2)"
        )
    raise IndicatorInputError(msg)


def as_input(x: npt.ArrayLike, name: str = "x") -> FloatArray:
    """``x`` as a 1-D C-contiguous float64 array (no copy when it already is one)."""
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def same_length(*arrays: FloatArray) -> None:
    """Refuse multi-input calls whose columns differ in length."""
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"input columns differ in length: {sorted(lengths)}")


def check_int(name: str, value: int, minimum: int) -> int:
    """Validate an integer parameter (bool is refused) and return it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(name: str, value: float) -> float:
    """Validate a finite real parameter and return it as float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return out


def encode_float(v: float) -> float | str | None:
    """JSON form of a state float: NaN as ``None``, infinities as strings, finite as is.

    ``json.dumps`` writes a finite float with its shortest round-trip ``repr``, so the value is
    restored exactly.
    """
    v = float(v)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def decode_float(v: object) -> float:
    """Inverse of :func:`encode_float`; refuses anything else."""
    if v is None:
        return math.nan
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"state value {v!r} is not a number, null, 'inf' or '-inf'")
    return float(v)


def _decode_int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"state value {v!r} is not an integer")
    return v


class KernelIndicator(ABC):
    """Base of the streaming objects: state kept in three numpy arrays the kernel updates.

    Subclasses set ``_F_FIELDS`` / ``_I_FIELDS`` (names of the float / integer state slots, used
    as keys in :meth:`get_state`), allocate ``_f``, ``_i`` and ``_ring`` in ``__init__`` and
    implement :meth:`params`.
    """

    _F_FIELDS: ClassVar[tuple[str, ...]] = ()
    _I_FIELDS: ClassVar[tuple[str, ...]] = ()

    _f: FloatArray
    _i: IntArray
    _ring: FloatArray
    _iring: IntArray

    def _alloc(self, ring_len: int = 0, iring_len: int = 0) -> None:
        self._f = np.zeros(len(self._F_FIELDS), dtype=np.float64)
        self._i = np.zeros(len(self._I_FIELDS), dtype=np.int64)
        self._ring = np.zeros(ring_len, dtype=np.float64)
        self._iring = np.zeros(iring_len, dtype=np.int64)
        self._x = np.zeros(1, dtype=np.float64)
        self._out = np.zeros(1, dtype=np.float64)

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The constructor parameters, as stored in the state."""

    def get_state(self) -> dict[str, Any]:
        """JSON-serialisable state; :meth:`set_state` continues the series bit-identically."""
        return {
            "indicator": type(self).__name__,
            "params": self.params(),
            "f": {k: encode_float(v) for k, v in zip(self._F_FIELDS, self._f, strict=True)},
            "i": {k: int(v) for k, v in zip(self._I_FIELDS, self._i, strict=True)},
            "ring": [encode_float(v) for v in self._ring],
            "iring": [int(v) for v in self._iring],
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state produced by :meth:`get_state` of an object with the same params."""
        check_header(type(self).__name__, self.params(), state)
        f = state["f"]
        i = state["i"]
        ring = state["ring"]
        iring = state.get("iring", [])
        name = type(self).__name__
        if set(f) != set(self._F_FIELDS) or set(i) != set(self._I_FIELDS):
            raise ValueError(f"{name}: state fields do not match")
        if len(ring) != len(self._ring) or len(iring) != len(self._iring):
            raise ValueError(f"{name}: state ring lengths do not match the parameters")
        new_f = np.array([decode_float(f[k]) for k in self._F_FIELDS], dtype=np.float64)
        new_i = np.array([_decode_int(i[k]) for k in self._I_FIELDS], dtype=np.int64)
        new_ring = np.array([decode_float(v) for v in ring], dtype=np.float64)
        new_iring = np.array([_decode_int(v) for v in iring], dtype=np.int64)
        # Assign only after everything decoded, so a bad state leaves the object untouched.
        self._f[:] = new_f
        self._i[:] = new_i
        self._ring[:] = new_ring
        self._iring[:] = new_iring

    def _snapshot(self) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
        return (self._f.copy(), self._i.copy(), self._ring.copy(), self._iring.copy())

    def _restore(self, snap: tuple[FloatArray, IntArray, FloatArray, IntArray]) -> None:
        self._f[:], self._i[:], self._ring[:], self._iring[:] = snap


def check_header(name: str, params: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Refuse a state made by another indicator type or with other parameters."""
    if not isinstance(state, Mapping):
        raise ValueError(f"{name}: state must be a mapping, got {type(state).__name__}")
    if state.get("indicator") != name:
        raise ValueError(f"state is for {state.get('indicator')!r}, not {name!r}")
    if state.get("params") != dict(params):
        raise ValueError(f"{name}: state params {state.get('params')!r} differ from {params!r}")


def raise_bad_update(name: str, bad: int, *, candle: bool = False) -> None:
    """The streaming form of :func:`raise_bad`: the refused input left the state unchanged."""
    if bad < 0:
        return
    what = "a candle with a NaN field" if candle else "NaN after the first finite input"
    raise IndicatorInputError(
        f"{name}: refused {what} (a caller error, IND §1.2); the state is unchanged"
    )


class SeriesIndicator(KernelIndicator):
    """A streaming indicator of one float series with one float output.

    Subclasses implement :meth:`_call`, which runs their kernel over ``x`` into ``out`` with the
    object's state and returns the kernel's bad index.
    """

    @abstractmethod
    def _call(self, x: FloatArray, out: FloatArray) -> int:
        """Run the kernel over ``x`` into ``out``; return the bad index (-1 if none)."""

    def update(self, x: float) -> float:
        """Consume one value and return the indicator's value at it (NaN during warm-up)."""
        self._x[0] = x
        raise_bad_update(type(self).__name__, self._call(self._x, self._out))
        return float(self._out[0])

    def update_many(self, x: npt.ArrayLike) -> FloatArray:
        """Consume a batch; the result equals calling :meth:`update` on each value in turn.

        On a refused value the state is rolled back to before the batch and the error raised.
        """
        arr = as_input(x)
        out = np.empty_like(arr)
        snapshot = self._snapshot()
        bad = self._call(arr, out)
        if bad >= 0:
            self._restore(snapshot)
            raise_bad(type(self).__name__, bad)
        return out
