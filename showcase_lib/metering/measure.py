"""Measurements the notebooks and benchmarks share: per-call latency and "without vs with".

Example:
    >>> import numpy as np
    >>> float(latency_table({"a": np.array([1_000, 2_000, 3_000])}).loc["a", "p50_us"])
    2.0
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib.metering.settings import Settings
from showcase_lib.metering.spool import Envelope
from showcase_lib.metering.tracker import _JSON, Tracker
from showcase_lib.metering.transport import SyncSender
from showcase_lib.wire import record_to_wire


def time_each(fn: Callable[[Any], Any], items: Iterable[Any]) -> np.ndarray:
    """Call ``fn(item)`` for each item; return each call's duration in nanoseconds.

    Example:
        >>> len(time_each(lambda x: x, range(5)))
        5
    """
    perf = time.perf_counter_ns
    out = []
    for item in items:
        t0 = perf()
        fn(item)
        out.append(perf() - t0)
    return np.asarray(out, dtype="int64")


def latency_table(samples_ns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """p50 / p99 / mean / max in microseconds, one row per named sample.

    Example:
        >>> float(latency_table({"x": np.array([1000] * 10)})["p99_us"].iloc[0])
        1.0
    """
    rows = {}
    for name, ns in samples_ns.items():
        us = np.asarray(ns, dtype="float64") / 1000.0
        rows[name] = {
            "calls": len(us),
            "p50_us": float(np.percentile(us, 50)),
            "p99_us": float(np.percentile(us, 99)),
            "mean_us": float(us.mean()),
            "max_us": float(us.max()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def records_of(calls: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a record frame as plain dicts (what an application would hand to track).

    Example:
        >>> from showcase_lib.schema import empty_calls
        >>> records_of(empty_calls())
        []
    """
    frame = calls.astype({c: object for c in calls.columns if str(calls[c].dtype) == "category"})
    return frame.to_dict("records")


def compare_overhead(
    settings: Settings, records: list[Mapping[str, Any]], *, tracker: Tracker | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """What metering adds to each AI call: one blocking POST per call vs ``Tracker.track``.

    The same records are sent both ways (the synchronous ones with their own idempotency
    keys and a ``-sync`` suffix on the transaction id, so both land in the store). Returns the
    latency table and the counts (records, requests) of each way.

    Example:
        >>> compare_overhead.__name__
        'compare_overhead'
    """
    own = tracker is None
    t = tracker or Tracker(settings)
    with SyncSender(settings) as sender:

        def blocking(rec: Mapping[str, Any]) -> None:
            rec = dict(rec, call_id=f"{rec['call_id']}-sync")
            sender.send(
                Envelope(f"{rec['call_id']}-key", rec["call_id"], _JSON(record_to_wire(rec)))
            )

        without = time_each(blocking, records)
        sync_requests = sender.requests
    with_ = time_each(t.track_record, records)
    t.flush(120)
    counts = {
        "records": len(records),
        "sync_requests": sync_requests,
        "tracker_requests": t.stats.requests,
    }
    if own:
        t.close()
    table = latency_table(
        {"Without: blocking POST per call": without, "With: Tracker.track()": with_}
    )
    return table, counts
