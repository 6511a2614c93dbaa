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

import hashlib
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


def _table(raw: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Categorical codes (``-1``: missing, labelled by ``labels[-1]``) -> (remap, labels):
    ``remap[raw]`` are the codes :func:`_unify` gives, ``labels`` the ones the calls use.
    One count of the calls; the rest is on the (small) categories."""
    k = len(labels) - 1
    if raw.dtype.itemsize <= 2:  # -1 reads as the top unsigned value: no pass to move it
        counts = np.bincount(raw.view(np.dtype(f"u{raw.dtype.itemsize}")), minlength=k)
        present = np.zeros(k + 1, dtype=bool)
        present[:k] = counts[:k] > 0
        present[k] = counts[k:].any()  # only -1 lands past the categories
    else:
        present = np.bincount(np.where(raw < 0, k, raw), minlength=k + 1) > 0
    uniq, inverse = np.unique(labels.astype(str), return_inverse=True)
    inverse = inverse.reshape(-1)
    used = np.zeros(len(uniq), dtype=bool)
    used[inverse[present]] = True
    remap = (np.cumsum(used) - 1)[inverse].astype(np.intp)  # category -> final code
    return remap, uniq[used].astype(object)  # remap[-1]: the missing label, last


#: Categorical columns coded so far: (id of the Categorical, kind) -> (weak reference to it,
#: SHA-1 of its codes, its dtype, (remap, labels)). The eight analyzers group the same
#: columns dozens of times; only the small category table is kept (no copy of the calls), and
#: a column edited in place (``df.loc[i, col] = ...``) changes the digest, so it is coded again.
_TABLES: dict[tuple[int, str], tuple[weakref.ref, bytes, object, tuple]] = {}


def _category_table(
    values: pd.Series, kind: str, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raw codes, remap, labels) of a categorical column: ``remap[raw]`` are its codes;
    the table is remembered per column and ``kind``."""
    cat = values.array
    raw = np.ascontiguousarray(cat.codes)
    digest = hashlib.sha1(memoryview(raw).cast("B")).digest()
    key = (id(cat), kind)
    hit = _TABLES.get(key)
    if hit is not None and hit[0]() is cat and hit[1] == digest and hit[2] == values.dtype:
        return (raw, *hit[3])
    remap, out = _table(raw, labels)
    _TABLES[key] = (
        weakref.ref(cat, lambda _r, k=key: _TABLES.pop(k, None)),
        digest,
        values.dtype,
        (remap, out),
    )
    return raw, remap, out


def _categorical(values: pd.Series, kind: str, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) of a categorical column through its remembered category table."""
    raw, remap, out = _category_table(values, kind, labels)
    return remap[raw], out


def _str_labels(values: pd.Series) -> np.ndarray:
    return np.asarray([str(c) for c in values.cat.categories] + [_NAN], dtype=object)


def str_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == values.astype(str)``; labels sorted, distinct.

    For a categorical column the table from categories to codes is remembered (recomputed if
    the column's values change), so coding it again is one pass over the calls.

    Example:
        >>> codes, labels = str_codes(pd.Series(["y", "x", "y"]))
        >>> codes.tolist(), labels.tolist()
        ([1, 0, 1], ['x', 'y'])
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _categorical(values, "str", _str_labels(values))
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
    return _categorical(values, f"missing:{label}", np.asarray([*cats, label], dtype=object))


def first_seen(codes: np.ndarray, n: int) -> np.ndarray:
    """The codes in order of first appearance (what ``groupby(sort=False)`` lists).

    The first block of calls usually shows every code; the rest is searched only for the
    codes still missing, so the cost is one pass over the calls and no sort.

    Example:
        >>> first_seen(np.array([2, 0, 2, 1]), 3).tolist()
        [2, 0, 1]
    """
    total = len(codes)
    first = np.full(n, total, dtype=np.int64)
    head = codes[:65536]
    uniq, at = np.unique(head, return_index=True)
    first[uniq] = at
    if len(uniq) < n and total > len(head):
        wanted = first == total
        rows = len(head) + np.flatnonzero(wanted[codes[len(head) :]])
        np.minimum.at(first, codes[rows], rows)
    order = np.argsort(first, kind="stable")
    return order[first[order] < total]


def is_not(values: pd.Series, text: str) -> np.ndarray:
    """``values.astype(str) != text`` per call, evaluated once per distinct value.

    Example:
        >>> is_not(pd.Series(["production", "staging"], dtype="category"), "production").tolist()
        [False, True]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # one table lookup per call, no codes
        raw, remap, labels = _category_table(values, "str", _str_labels(values))
        return (labels != text)[remap][raw]
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
#: The splitmix64 finaliser's shifts and odd multipliers (Steele, Lea and Flood, "Fast
#: splittable pseudorandom number generators", OOPSLA 2014): every input bit reaches every
#: output bit, which a plain multiply does not (it only carries upwards).
_MIX = (
    (np.uint64(30), np.uint64(27), np.uint64(31)),
    (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)),
)
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


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place on a uint64 array (a bijection on 64 bits)."""
    (s1, s2, s3), (m1, m2) = _MIX
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def _factorize_words(hi: np.ndarray, lo: np.ndarray) -> np.ndarray | None:
    """``pd.factorize`` codes of the (hi, lo) pairs through one 64-bit hash, or None when two
    different pairs share a hash (checked: then the caller factorizes the text).

    The ids share a prefix ("sess_"), so the varying bytes of ``hi`` sit in its top bits:
    ``hi`` is mixed before ``lo`` joins it, else equal high bits of ``hi * c ^ lo`` collide.
    """
    h = _mix(hi.copy())
    h ^= lo
    codes, _ = pd.factorize(_mix(h).view(np.int64))
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


def forget() -> None:
    """Drop every remembered coding, so the next analyzer run codes its columns afresh (the
    analyzer benchmark times each run as a reader's first).

    Example:
        >>> _ = id_codes(pd.Series(["s1"], dtype="string[pyarrow]")); forget(); len(_CODED)
        0
    """
    _CODED.clear()
    _TABLES.clear()
