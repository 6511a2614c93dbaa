"""Calls -> integer (period, entity) cell numbers, and sums per cell as pandas adds them.

A (periods x entities) matrix is a sum per cell. Hashing 10M (timestamp, entity) pairs in a
group-by costs seconds; the cell of a call is integer arithmetic instead: its bucket number
(the timestamp divided by the bucket width) times the number of entities plus the entity's
categorical code. :func:`group_sums` then adds the values of each cell the way pandas'
group-by sum does (Kahan-compensated, in row order), so the matrices are equal to the bit.

Example:
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-03 00:00"],
    ...                    utc=True),
    ...                    "customer_id": pd.Categorical(["b", "a"]), "cost_usd": [1.0, 2.0]})
    >>> c = cells(df, "customer_id", "day")
    >>> c.columns, c.sums(df["cost_usd"].to_numpy()).tolist()
    (['a', 'b'], [[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from showcase_lib.analysis._timeseries import _MONDAY_NS, _Bucket, bucket

try:  # pandas' own compensated group sum (what Series.groupby(...).sum() runs)
    from pandas._libs.groupby import group_sum as _group_sum
except ImportError:  # pragma: no cover - a pandas without it: the public (slower) route
    _group_sum = None

#: int64 value of NaT.
_NAT = np.iinfo(np.int64).min


def group_sums(values: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``values`` per code ``0..n-1`` exactly as ``Series.groupby(codes).sum()`` adds
    them: Kahan-compensated, in row order, NaN skipped (0.0 for a code without values).
    Rows with code -1 are left out.

    Example:
        >>> group_sums(np.array([1.0, 2.0, np.nan, 4.0]), np.array([1, 1, 0, -1]), 3).tolist()
        [0.0, 3.0, 0.0]
    """
    vals = np.ascontiguousarray(values, dtype=np.float64)
    labels = np.ascontiguousarray(codes, dtype=np.intp)
    if _group_sum is not None:
        try:
            out = np.zeros((n, 1), dtype=np.float64)
            counts = np.zeros(n, dtype=np.int64)
            _group_sum(out, counts, vals.reshape(-1, 1), labels, None, None, min_count=0)
            return out[:, 0]
        except TypeError:  # pragma: no cover - another signature: the public route below
            pass
    keys = pd.Categorical.from_codes(labels, categories=pd.RangeIndex(n))
    return pd.Series(vals).groupby(keys, observed=False).sum().to_numpy()


def timestamp_ns(ts: pd.Series) -> np.ndarray:
    """The timestamps as int64 nanoseconds since the epoch, UTC (naive ones read as UTC).

    Example:
        >>> timestamp_ns(pd.Series(pd.to_datetime(["1970-01-01 00:00:01"], utc=True))).tolist()
        [1000000000]
    """
    values = (
        ts.to_numpy(dtype="datetime64[ns]")
        if isinstance(ts.dtype, pd.DatetimeTZDtype)
        else np.asarray(ts, dtype="datetime64[ns]")
    )
    return values.view(np.int64)


@dataclass(frozen=True)
class Cells:
    """The cell of each call in a (periods x entities) matrix (-1: a call left out)."""

    #: Cell per call: ``period * len(labels) + entity``.
    cell: np.ndarray
    #: Periods from the first call's to the last one's.
    n_periods: int
    #: Entity labels (``str`` of the categories, in the group-by's order; some may be unused).
    labels: list[str]
    #: Name of the columns' index.
    name: str
    #: Start of the first period (ns since the epoch, UTC).
    first_ns: int
    #: The bucket.
    b: _Bucket

    @property
    def shape(self) -> tuple[int, int]:
        """(periods, entities), the unused entities included."""
        return self.n_periods, len(self.labels)

    @cached_property
    def _tally(self) -> np.ndarray:
        """(periods, entities) number of calls per cell."""
        n = self.shape[0] * self.shape[1]
        kept = self.cell[self.cell >= 0] if (self.cell < 0).any() else self.cell
        return np.bincount(kept, minlength=n).reshape(self.shape)

    @cached_property
    def used(self) -> np.ndarray:
        """Entities with at least one call (the group-by's columns)."""
        return self._tally.any(axis=0)

    @property
    def columns(self) -> list[str]:
        """Labels of the used entities: the matrix's columns."""
        return [c for c, u in zip(self.labels, self.used, strict=True) if u]

    def sums(self, values: np.ndarray) -> np.ndarray:
        """(periods, used entities) sums of ``values`` (pandas' order and compensation)."""
        n = self.shape[0] * self.shape[1]
        return group_sums(values, self.cell, n).reshape(self.shape)[:, self.used]

    def counts(self) -> np.ndarray:
        """(periods, used entities) number of calls per cell, as floats."""
        return self._tally[:, self.used].astype(float)

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        """A (periods x used entities) array as the matrix frame (UTC calendar rows, str
        columns)."""
        width = self.b.n * self.b.unit_ns
        first = pd.Timestamp(self.first_ns, tz="UTC")
        last = pd.Timestamp(self.first_ns + (self.n_periods - 1) * width, tz="UTC")
        index = self.b.calendar(first, last)
        index.name = "period"
        columns = pd.Index(self.columns, dtype=object, name=self.name)
        return pd.DataFrame(values, index=index, columns=columns)


def cells(df: pd.DataFrame, by: str | None, freq: str) -> Cells | None:
    """The :class:`Cells` of ``df`` per ``freq`` period and ``by`` value, or None when the
    frame needs the general group-by (no rows, months, missing timestamps, a ``by`` column
    that is not categorical, or no call with a ``by`` value).

    Calls whose ``by`` value is missing are left out (cell -1), as the group-by drops them.

    Example:
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 00:30", "2026-01-01 02:10"],
        ...                    utc=True)})
        >>> c = cells(df, None, "h")
        >>> c.cell.tolist(), c.columns, c.shape
        ([0, 2], ['total'], (3, 1))
    """
    b = bucket(freq)
    if not len(df) or b.kind == "month":
        return None
    ns = timestamp_ns(df["timestamp"])
    if (ns == _NAT).any():
        return None
    codes, keep = None, None
    if by is not None:
        col = df[by]
        if not isinstance(col.dtype, pd.CategoricalDtype):
            return None
        codes = col.cat.codes.to_numpy()
        keep = codes >= 0
        if keep.all():
            keep = None
        elif not keep.any():
            return None
    width = b.n * b.unit_ns
    origin = _MONDAY_NS if b.kind == "week" else 0
    k = np.floor_divide(ns - origin if origin else ns, width)
    kept = k[keep] if keep is not None else k
    k0, k1 = int(kept.min()), int(kept.max())
    labels = ["total"]
    if codes is not None:
        cats = col.cat.categories
        if (k1 - k0 + 1) * len(cats) > max(4 * len(df), 1 << 22):  # mostly unused: drop them
            used = np.bincount(codes[keep] if keep is not None else codes, minlength=len(cats))
            used = used > 0
            codes, cats = (np.cumsum(used) - 1)[codes], cats[used]
        labels = [str(c) for c in cats]
    k -= k0
    if codes is not None:
        k *= len(labels)
        k += codes
    if keep is not None:
        k[~keep] = -1
    return Cells(
        cell=k,
        n_periods=k1 - k0 + 1,
        labels=labels,
        name=by or "entity",
        first_ns=k0 * width + origin,
        b=b,
    )
