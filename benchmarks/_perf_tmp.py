"""Measure what metadata choices cost at run time: validation latency and throughput, and the
price of a group-by as a tag's cardinality grows. Returns numbers; prints nothing.

Example:
    >>> t = groupby_cost(n_rows=5_000, cardinalities=(10, 1_000), repeats=1)
    >>> t["result_rows"].tolist()
    [10, 1000]
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib.metadata.batch import validate_many
from showcase_lib.metadata.validate import DEFAULT_VALIDATOR, Validator


def groupby_cost(
    *,
    n_rows: int = 200_000,
    cardinalities: Sequence[int] = (10, 100, 1_000, 10_000, 100_000),
    repeats: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Time ``cost by tag`` (sum, count) on ``n_rows`` calls for each tag cardinality.

    The tag arrives as text (``string[pyarrow]``), as it does from a wire or a CSV. Columns:
    cardinality, seconds (best of ``repeats``), result_rows, result_kib (memory of the report),
    rows_per_second.

    Example:
        >>> groupby_cost(n_rows=2_000, cardinalities=(5,), repeats=1)["cardinality"].item()
        5
    """
    rng = np.random.default_rng(seed)
    cost = rng.gamma(2.0, 0.01, n_rows)
    rows = []
    for k in cardinalities:
        codes = rng.integers(0, k, n_rows)
        if k <= n_rows:
            codes[:k] = np.arange(k)  # every value appears at least once
        labels = pd.Series(np.char.add("value_", codes.astype(str)), dtype="string[pyarrow]")
        frame = pd.DataFrame({"tag": labels, "cost_usd": cost})
        best = float("inf")
        result = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = frame.groupby("tag", observed=True)["cost_usd"].agg(["sum", "count"])
            best = min(best, time.perf_counter() - t0)
        assert result is not None
        rows.append(
            {
                "cardinality": k,
                "seconds": best,
                "result_rows": len(result),
                "result_kib": result.memory_usage(deep=True).sum() / 1024,
                "rows_per_second": n_rows / best,
            }
        )
    return pd.DataFrame(rows)


def validate_latency(
    metadata: Mapping[str, Any], *, n: int = 5_000, validator: Validator | None = None
) -> dict[str, float]:
    """Per-call latency of single-record validation in microseconds (p50, p99, mean).

    Example:
        >>> lat = validate_latency({"customer_id": "cust_1"}, n=50)
        >>> lat["p50_us"] > 0
        True
    """
    v = validator or DEFAULT_VALIDATOR
    times = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter_ns()
        v.validate(metadata)
        times[i] = time.perf_counter_ns() - t0
    us = times / 1e3
    return {
        "p50_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "calls": n,
    }


def validate_many_throughput(
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    repeats: int = 3,
    validator: Validator | None = None,
) -> dict[str, float]:
    """Best-of-``repeats`` wall time and records per second of :func:`validate_many`.

    Example:
        >>> r = validate_many_throughput([{"customer_id": "cust_1"}] * 10, repeats=1)
        >>> r["records"]
        10
    """
    frame = (
        records if isinstance(records, pd.DataFrame) else pd.DataFrame.from_records(list(records))
    )
    best = float("inf")
    invalid = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        rep = validate_many(frame, validator=validator)
        best = min(best, time.perf_counter() - t0)
        invalid = rep.n_invalid
    return {
        "records": len(frame),
        "seconds": best,
        "records_per_second": len(frame) / best,
        "invalid": invalid,
    }
