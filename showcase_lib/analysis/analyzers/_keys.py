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
