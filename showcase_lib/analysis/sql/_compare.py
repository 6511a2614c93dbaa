"""Check that pandas and DuckDB agree, with ``pandas.testing.assert_frame_equal``."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def _normalise(frame: pd.DataFrame | pd.Series, like: pd.DataFrame | None = None) -> pd.DataFrame:
    """Named index levels become columns; a Series becomes a frame (one row if its index names
    ``like``'s columns, else one column)."""
    if isinstance(frame, pd.Series):
        if like is not None and set(map(str, frame.index)) <= set(like.columns):
            return frame.to_frame().T.reset_index(drop=True)
        frame = frame.to_frame()
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _is_number(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _comparable(s: pd.Series, numeric: bool) -> pd.Series:
    """Numbers as float (NULL -> NaN), times as UTC nanoseconds, everything else as text."""
    if numeric:
        return pd.to_numeric(s, errors="coerce").astype(float)
    if pd.api.types.is_datetime64_any_dtype(s):
        return pd.to_datetime(s, utc=True).astype("datetime64[ns, UTC]")
    return s.astype(str)


def assert_same(
    expected: pd.DataFrame | pd.Series,
    actual: pd.DataFrame,
    *,
    keys: Sequence[str] | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-9,
) -> int:
    """Assert a pandas result equals a DuckDB result, ignoring row order and index placement;
    return the number of rows compared.

    ``expected``'s named index becomes columns; every column of ``expected`` must exist in
    ``actual`` (extra SQL columns are ignored). Rows are matched after sorting on ``keys``
    (default: the non-numeric columns); then ``pandas.testing.assert_frame_equal`` compares
    numbers within ``rtol``/``atol`` (NaN equals NULL) and other values exactly, and its
    ``AssertionError`` names the column and the first differing row.

    A (periods x entities) matrix (:func:`~showcase_lib.analysis.anomalies.cost_matrix`,
    :func:`~showcase_lib.analysis.anomalies.score`) is compared with the long rows
    ``period, entity, <value>`` the SQL scores return: it is unstacked first (NaN kept), and
    ``<value>`` is the SQL score's ``cusum`` or ``z`` column.

    Example:
        >>> a = pd.DataFrame({"k": ["x", "y"], "v": [1.0, 2.0]}).set_index("k")
        >>> assert_same(a, pd.DataFrame({"k": ["y", "x"], "v": [2.0, 1.0 + 1e-12]}))
        2
        >>> assert_same(a, pd.DataFrame({"k": ["y", "x"], "v": [2.0, 1.5]}))
        Traceback (most recent call last):
        ...
        AssertionError: pandas vs DuckDB.iloc[:, 1] (column name="v") are different
        ...
    """
    if _is_matrix(expected, actual):
        expected = to_long(expected, next(c for c in _SCORES if c in actual.columns))
    e = _normalise(expected, actual)
    a = _normalise(actual)
    missing = [c for c in e.columns if c not in a.columns]
    if missing:
        raise AssertionError(f"pandas vs DuckDB: columns {missing} missing from the SQL result")
    a = a[list(e.columns)]
    if len(e) != len(a):
        raise AssertionError(f"pandas vs DuckDB: row counts differ: pandas {len(e)}, SQL {len(a)}")
    numeric = {c: _is_number(e[c]) for c in e.columns}
    e = pd.DataFrame({c: _comparable(e[c], numeric[c]) for c in e.columns})
    a = pd.DataFrame({c: _comparable(a[c], numeric[c]) for c in a.columns})
    by = list(keys) if keys is not None else [c for c in e.columns if not numeric[c]]
    if by:
        e = e.sort_values(by, kind="mergesort", ignore_index=True)
        a = a.sort_values(by, kind="mergesort", ignore_index=True)
    pd.testing.assert_frame_equal(
        e, a, check_dtype=False, check_exact=False, rtol=rtol, atol=atol, obj="pandas vs DuckDB"
    )
    return len(e)


#: Columns the SQL anomaly scores return their value in (CUSUM first: its rows also carry z).
_SCORES = ("cusum", "z")


def _is_matrix(expected: pd.DataFrame | pd.Series, actual: pd.DataFrame) -> bool:
    """Whether ``expected`` is a (periods x entities) matrix to compare with long SQL rows."""
    return (
        isinstance(expected, pd.DataFrame)
        and expected.index.name == "period"
        and {"period", "entity"} <= set(actual.columns)
        and "entity" not in expected.columns
        and any(c in actual.columns for c in _SCORES)
    )


def to_long(matrix: pd.DataFrame, name: str) -> pd.DataFrame:
    """A (periods x entities) matrix as long rows ``period, entity, <name>`` (NaN kept), the
    shape the SQL versions of the anomaly scores return.

    Example:
        >>> m = pd.DataFrame({"a": [1.0]}, index=pd.Index([0], name="period"))
        >>> to_long(m, "z").values.tolist()
        [[0, 'a', 1.0]]
    """
    out = matrix.stack(future_stack=True).rename(name).reset_index()
    out.columns = ["period", "entity", name]
    out["entity"] = out["entity"].astype(str)
    return out
