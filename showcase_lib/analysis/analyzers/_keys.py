"""Group keys computed once per distinct value, not once per call (issue 14).

The analyzers group calls by text columns (customer, feature, model). Turning 10M categorical
values into Python strings (``astype(str)``) to group them costs more than the group-by itself;
these helpers work on the categorical codes and touch each distinct value once, with the same
result: ``labels[codes]`` equals ``values.astype(str)`` (or ``label_missing(values)``).

Example:
    >>> s = pd.Series(["b", "a", None, "b"], dtype="category")
    >>> codes, labels = str_codes(s)
    >>> labels[codes].tolist() == s.astype(str).tolist()
    True
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

#: Label of missing values under ``astype(str)`` of a categorical column.
_NAN = "nan"


def _unify(codes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge equal labels, keep the ones the calls use, sorted (code point order, as Python)."""
    uniq, inverse = np.unique(labels.astype(str), return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(inverse, np.arange(len(inverse))):  # else: already sorted, distinct
        codes = inverse[codes]
    used = np.bincount(codes, minlength=len(uniq)) > 0
    if used.all():
        return codes, uniq.astype(object)
    return (np.cumsum(used) - 1)[codes], uniq[used].astype(object)


def str_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == values.astype(str)``; labels sorted, distinct.

    Example:
        >>> codes, labels = str_codes(pd.Series(["y", "x", "y"]))
        >>> codes.tolist(), labels.tolist()
        ([1, 0, 1], ['x', 'y'])
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = np.asarray([str(c) for c in values.cat.categories] + [_NAN], dtype=object)
        codes = values.cat.codes.to_numpy()
        if (codes < 0).any():
            codes = np.where(codes < 0, len(cats) - 1, codes)
        return _unify(codes.astype(np.intp, copy=False), cats)
    codes, uniques = pd.factorize(values.astype(str))
    return _unify(codes, np.asarray(uniques, dtype=object))


def missing_codes(values: pd.Series, label: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == label_missing(values, label)``.

    Example:
        >>> codes, labels = missing_codes(pd.Series(["a", None, " "], dtype="category"), "(untagged)")
        >>> labels[codes].tolist()
        ['a', '(untagged)', '(untagged)']
    """
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    cats = [label if str(c).strip() == "" else str(c) for c in values.cat.categories]
    codes = values.cat.codes.to_numpy().astype(np.int64)
    codes[codes < 0] = len(cats)
    return _unify(codes, np.asarray([*cats, label], dtype=object))


def first_seen(codes: np.ndarray, n: int) -> np.ndarray:
    """The codes in order of first appearance (what ``groupby(sort=False)`` lists).

    Example:
        >>> first_seen(np.array([2, 0, 2, 1]), 3).tolist()
        [2, 0, 1]
    """
    first = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))  # one pass, no sort
    order = np.argsort(first, kind="stable")
    return order[first[order] < len(codes)]


def is_not(values: pd.Series, text: str) -> np.ndarray:
    """``values.astype(str) != text`` per call, evaluated once per distinct value.

    Example:
        >>> is_not(pd.Series(["production", "staging"], dtype="category"), "production").tolist()
        [False, True]
    """
    codes, labels = str_codes(values)
    return (labels != text)[codes]


def blank(values: pd.Series) -> np.ndarray:
    """``values.isna() | (values.astype(str).str.strip() == "")`` per call, once per value.

    Example:
        >>> blank(pd.Series(["a", None, " "], dtype="category")).tolist()
        [False, True, True]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = np.asarray([str(c).strip() == "" for c in values.cat.categories] + [True])
        codes = values.cat.codes.to_numpy()
        return cats[np.where(codes < 0, len(cats) - 1, codes)]
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def appearance(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber ``codes`` (0..n-1) in order of first appearance, as ``pd.factorize`` numbers
    them; returns (new codes, old code of each new one). One pass, no hashing.

    Example:
        >>> new, old = appearance(np.array([5, 2, 5, 0]), 6)
        >>> new.tolist(), old.tolist()
        ([0, 1, 0, 2], [5, 2, 0])
    """
    order = first_seen(codes, n)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], order


def first_positions(codes: np.ndarray) -> np.ndarray:
    """Where each code first appears, for codes numbered in order of appearance (``-1``:
    missing, skipped), e.g. from ``pd.factorize``.

    Example:
        >>> first_positions(np.array([0, -1, 1, 0, 2, 1])).tolist()
        [0, 2, 4]
    """
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    before = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    return np.flatnonzero(codes > before)


#: Identifiers up to this many bytes are read as two 64-bit words (the record's ids are 16).
_WORD_BYTES = 16
#: Odd 64-bit constants of the splitmix64 finaliser: they spread two words over one hash.
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(31))
#: Identifier columns coded so far, by the id of their (immutable) Arrow data: the
#: understanding and optimization analyzers both need the sessions of the same frame.
_CODED: dict[int, tuple[weakref.ref, tuple[np.ndarray, int]]] = {}


def _words(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The text of an Arrow string column as two 64-bit words per row, when every value has
    the same length (at most 16 bytes) and none is missing; else None."""
    import pyarrow as pa

    chunked = values.array._pa_array
    arr = chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    if (
        arr.null_count
        or not len(arr)
        or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))
    ):
        return None
    wide = pa.types.is_large_string(arr.type)
    _, off_buf, data_buf = arr.buffers()
    off = np.frombuffer(off_buf, dtype=np.int64 if wide else np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    width = int(off[1] - off[0])
    if width > _WORD_BYTES or int(off[-1] - off[0]) != width * len(arr):
        return None
    if len(arr) > 1 and not (np.diff(off) == width).all():
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[off[0] : off[-1]].reshape(len(arr), width)
    padded = np.zeros((len(arr), _WORD_BYTES), dtype=np.uint8)
    padded[:, :width] = data
    both = padded.view(np.uint64)
    return np.ascontiguousarray(both[:, 0]), np.ascontiguousarray(both[:, 1])


def _factorize_words(hi: np.ndarray, lo: np.ndarray) -> np.ndarray | None:
    """``pd.factorize`` codes of the (hi, lo) pairs through one 64-bit hash, or None when two
    different pairs share a hash (checked: then the caller factorizes the text)."""
    a, b, shift = _MIX
    h = hi * a
    h ^= lo
    h *= b
    h ^= h >> shift
    codes, _ = pd.factorize(h.view(np.int64))
    first = first_positions(codes)[codes]  # the first row with the same hash
    if not ((hi[first] == hi).all() and (lo[first] == lo).all()):
        return None
    return codes


def id_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """``pd.factorize(values)`` codes (numbered in order of first appearance, -1: missing)
    and the number of distinct values; read-only, remembered for the same Arrow column.

    Identifier columns (``string[pyarrow]``, every value the same length up to 16 bytes, as
    the record's ids are) are hashed as two integers instead of as text, about twice as fast
    and exact (rows of equal hash are compared).

    Example:
        >>> codes, n = id_codes(pd.Series(["s2", "s1", "s2"], dtype="string[pyarrow]"))
        >>> codes.tolist(), n
        ([0, 1, 0], 2)
    """
    arrow = isinstance(getattr(values, "array", None), pd.arrays.ArrowStringArray)
    key = id(values.array._pa_array) if arrow else None
    if key is not None and key in _CODED:
        ref, found = _CODED[key]
        if ref() is values.array._pa_array:
            return found
    codes = None
    if arrow:
        words = _words(values)
        codes = _factorize_words(*words) if words is not None else None
    if codes is None:
        codes, _ = pd.factorize(values)
    codes = np.asarray(codes, dtype=np.intp)
    n = int(codes.max()) + 1 if len(codes) else 0
    codes.flags.writeable = False
    if key is not None:
        _CODED[key] = (
            weakref.ref(values.array._pa_array, lambda _r, k=key: _CODED.pop(k, None)),
            (codes, n),
        )
    return codes, n
