"""Compact, unique, random-looking identifiers built without Python loops.

Every id is exactly 16 ASCII characters: a prefix (``call_``, ``req_``, ``trace_``, ``sess_``)
followed by hex digits of a *bijective* scramble of an integer key, so distinct keys always give
distinct ids and a different ``salt`` (derived from the seed) gives different ids. The hex text
is computed eight digits at a time on uint64 words (SWAR: nibbles spread into bytes, then
shifted into ASCII), written straight into an Arrow ``large_string`` buffer, and wrapped as
pandas ``string[pyarrow]`` without a copy: 10M ids cost 10M x (16 + 8) bytes.

Example:
    >>> import numpy as np
    >>> ids = hex_ids("req_", 3, salt=7)
    >>> [len(i) for i in ids], len(set(ids))
    ([16, 16, 16], 3)
"""

from __future__ import annotations

import ctypes
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["ID_LENGTH", "fixed_offsets", "hex_ids", "release_freed_memory", "scramble"]

#: Length of every id in characters (prefix + hex digits).
ID_LENGTH: Final[int] = 16
_CHUNK: Final[int] = 1 << 16  # work buffers of 512 KB: passes run in cache
_U = np.uint64


def release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``; a no-op elsewhere).

    The chunked temporaries (a few MB each) come from the C heap; without this, glibc keeps the
    holes they leave between long-lived arrays, and peak memory at 10M calls grows by ~15%.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _load_libc()


def scramble(keys: np.ndarray, salt: int, bits: int = 40) -> np.ndarray:
    """Bijective mix of keys in ``[0, 2**bits)`` (add, odd multiply, xor-shift: each invertible).

    Example:
        >>> import numpy as np
        >>> k = np.arange(1000)
        >>> len(np.unique(scramble(k, 1))) == 1000
        True
    """
    x = np.asarray(keys).astype(_U)
    _scramble_inplace(x, salt, bits, np.empty_like(x))
    return x


def _scramble_inplace(x: np.ndarray, salt: int, bits: int, tmp: np.ndarray) -> None:
    mask = _U((1 << bits) - 1)
    x += _U(salt & ((1 << bits) - 1))
    x &= mask
    x *= _U((0x9E3779B97F4A7C15 & ((1 << bits) - 1)) | 1)
    x &= mask
    np.right_shift(x, _U(bits // 2), out=tmp)
    x ^= tmp
    x *= _U((0xBF58476D1CE4E5B9 & ((1 << bits) - 1)) | 1)
    x &= mask
    np.right_shift(x, _U(bits // 2 - 3), out=tmp)
    x ^= tmp


def _spread_step(x: np.ndarray, tmp: np.ndarray, high: int, low: int, shift: int) -> None:
    """x = ((x & high) << shift) | (x & low), in place."""
    np.bitwise_and(x, _U(high), out=tmp)
    np.left_shift(tmp, _U(shift), out=tmp)
    x &= _U(low)
    x |= tmp


def _hex8_inplace(x: np.ndarray, tmp: np.ndarray) -> None:
    """uint64 values < 2**32 -> words whose little-endian bytes are 8 hex digits (in place)."""
    _spread_step(x, tmp, 0xFFFF0000, 0x0000FFFF, 16)
    _spread_step(x, tmp, 0x0000FF000000FF00, 0x000000FF000000FF, 8)
    _spread_step(x, tmp, 0x00F000F000F000F0, 0x000F000F000F000F, 4)
    x.byteswap(inplace=True)  # most significant digit first in memory
    np.add(x, _U(0x0606060606060606), out=tmp)
    tmp >>= _U(4)
    tmp &= _U(0x0101010101010101)  # 1 in each byte holding a digit >= 10
    tmp *= _U(0x27)  # '0' + 10 + 0x27 == 'a'
    x += _U(0x3030303030303030)
    x += tmp


def fixed_offsets(n: int) -> np.ndarray:
    """Arrow offsets of n strings of ``ID_LENGTH`` characters (shareable between id columns)."""
    return np.arange(0, (n + 1) * ID_LENGTH, ID_LENGTH, dtype=np.int64)


def hex_ids(
    prefix: str,
    keys: np.ndarray | int,
    salt: int,
    index: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
) -> pd.arrays.ArrowStringArray:
    """``prefix`` + hex digits (16 characters in all) per key, as pandas ``string[pyarrow]``.

    ``keys`` is an array of distinct non-negative integers, or an int n for keys 0..n-1. With
    ``index``, row i gets the id of ``keys[index[i]]`` (gathered chunk by chunk, so no
    full-length temporary is made). The prefix is 1 to 8 characters. Id columns of the same
    length can share one read-only ``offsets`` buffer (``fixed_offsets(n)``), saving 8 bytes
    per row per extra column.

    Example:
        >>> import numpy as np
        >>> ids = hex_ids("sess_", np.array([5, 9]), salt=3, index=np.array([0, 0, 1]))
        >>> ids[0] == ids[1] != ids[2]
        True
        >>> ids[0][:5]
        'sess_'
    """
    raw = prefix.encode("ascii")
    if not 1 <= len(raw) <= 8:
        raise ValueError(f"prefix={prefix!r} must be 1 to 8 characters")
    digits = ID_LENGTH - len(raw)
    bits = 4 * digits
    n = len(index) if index is not None else (keys if isinstance(keys, int) else len(keys))
    n_keys = keys if isinstance(keys, int) else len(keys)
    if n_keys and not isinstance(keys, int) and (int(np.max(keys)) >> bits or np.min(keys) < 0):
        raise ValueError(f"{prefix!r} ids: keys must lie in [0, 2**{bits})")
    if isinstance(keys, int) and keys > (1 << bits):
        raise ValueError(f"{prefix!r} ids: at most 2**{bits} keys")
    prefix_word = _U(int.from_bytes(raw.ljust(8, b"\0"), "little"))
    keep_high = _U(((1 << 64) - 1) ^ ((1 << (8 * len(raw))) - 1))  # bytes after the prefix
    data = np.empty((n, 2), dtype=_U)
    # small reused work buffers: each pass stays in cache and nothing is allocated per chunk
    x = np.empty(_CHUNK, dtype=_U)
    hi_word = np.empty(_CHUNK, dtype=_U)
    tmp = np.empty(_CHUNK, dtype=_U)
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        m = hi - lo
        xs, hs, ts = x[:m], hi_word[:m], tmp[:m]
        if isinstance(keys, int) and index is None:
            xs[:] = np.arange(lo, hi, dtype=_U)
        elif isinstance(keys, int):
            xs[:] = index[lo:hi]
        elif index is None:
            xs[:] = keys[lo:hi]
        else:
            xs[:] = keys[index[lo:hi]]
        _scramble_inplace(xs, salt, bits, ts)
        np.right_shift(xs, _U(32), out=hs)
        xs &= _U(0xFFFFFFFF)
        _hex8_inplace(xs, ts)
        _hex8_inplace(hs, ts)
        hs &= keep_high
        hs |= prefix_word
        data[lo:hi, 0] = hs
        data[lo:hi, 1] = xs
    if offsets is None:
        offsets = fixed_offsets(n)
    elif len(offsets) != n + 1:
        raise ValueError(f"offsets has {len(offsets)} entries, expected {n + 1}")
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.reshape(-1))]
    )
    return pd.arrays.ArrowStringArray(pa.chunked_array([arr], type=pa.large_string()))
