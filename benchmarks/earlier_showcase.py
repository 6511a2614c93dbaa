"""Time the earlier public showcase's eight analyzers on a CSV (used by bench_analyzers.py).

The earlier showcase (https://github.com/m1small/revenium-finops-showcase, pure standard
library) is not part of this repository and none of its code is copied here: give this script
the ``src`` folder of a local checkout. It loads the calls once with that project's own loader
(``analyzers.common.load_calls_from_csv``), then runs each analyzer's ``analyze()`` on the
loaded list, so the figures compare analysis with analysis (its analyzers each re-read the CSV
when built the documented way; the load time is printed apart). Prints one JSON line:
``{"rows", "load_s", "analyzers": {name: seconds}, "cpu_s"}``.

:func:`write_csv` turns this book's calls into that project's CSV columns (``total_tokens``,
``tier_price_usd`` from the customer's monthly fee, ``customer_archetype``).

Usage:
    git clone https://github.com/m1small/revenium-finops-showcase /tmp/earlier
    python benchmarks/earlier_showcase.py /tmp/earlier/src calls.csv
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

import pandas as pd

#: Our analyzer name -> (module, class) in the earlier showcase, in ``ANALYZERS`` order.
EIGHT = {
    "understanding": ("analyzers.finops.understanding", "UnderstandingAnalyzer"),
    "performance": ("analyzers.finops.performance", "PerformanceAnalyzer"),
    "realtime": ("analyzers.finops.realtime", "RealtimeAnalyzer"),
    "optimization": ("analyzers.finops.optimization", "OptimizationAnalyzer"),
    "alignment": ("analyzers.finops.alignment", "AlignmentAnalyzer"),
    "profitability": ("analyzers.ubr.profitability", "CustomerProfitabilityAnalyzer"),
    "pricing": ("analyzers.ubr.pricing", "PricingStrategyAnalyzer"),
    "features": ("analyzers.ubr.features", "FeatureEconomicsAnalyzer"),
}

#: The earlier showcase's CSV columns, in its order (its simulator's ``CSV_FIELDNAMES``).
COLUMNS = (
    "call_id",
    "timestamp",
    "customer_id",
    "organization_id",
    "product_id",
    "feature_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost_usd",
    "latency_ms",
    "status",
    "environment",
    "region",
    "subscription_tier",
    "tier_price_usd",
    "customer_archetype",
)


def write_csv(calls: pd.DataFrame, customers: pd.DataFrame, path: Path) -> int:
    """Write ``calls`` in the earlier showcase's CSV layout; returns the rows written.

    Example:
        >>> import tempfile
        >>> calls = pd.DataFrame({"call_id": ["c1"], "customer_id": ["a"],
        ...     "timestamp": pd.to_datetime(["2026-07-01 10:00"], utc=True),
        ...     "input_tokens": [10], "output_tokens": [5]})
        >>> customers = pd.DataFrame({"customer_id": ["a"], "monthly_fee_usd": [29.0],
        ...     "archetype": ["power"]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     n = write_csv(calls, customers, Path(tmp) / "calls.csv")
        ...     row = pd.read_csv(Path(tmp) / "calls.csv", dtype=str).iloc[0]
        >>> n, row["total_tokens"], row["tier_price_usd"], row["timestamp"]
        (1, '15', '29', '2026-07-01T10:00:00.000000')
    """
    fees = customers.set_index("customer_id")
    ids = calls["customer_id"].astype(str)
    out = pd.DataFrame(
        {
            c: (calls[c].astype(str) if c in calls else "")
            for c in COLUMNS
            if c not in ("total_tokens", "tier_price_usd", "customer_archetype", "timestamp")
        }
    )
    out["timestamp"] = calls["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    out["total_tokens"] = calls["input_tokens"] + calls["output_tokens"]
    out["tier_price_usd"] = ids.map(fees["monthly_fee_usd"]).fillna(0).round().astype(int)
    out["customer_archetype"] = ids.map(fees["archetype"]).fillna("unknown")
    out[list(COLUMNS)].to_csv(path, index=False)
    return len(out)


def run(src: Path, csv: Path) -> dict:
    """Load ``csv`` once with the earlier showcase's loader, time its eight ``analyze()``."""
    sys.path.insert(0, str(src))
    common = importlib.import_module("analyzers.common")
    c0 = time.process_time()
    t0 = time.perf_counter()
    calls = common.load_calls_from_csv(str(csv))
    load_s = time.perf_counter() - t0
    seconds = {}
    for name, (module, cls) in EIGHT.items():
        klass = getattr(importlib.import_module(module), cls)
        analyzer = klass.__new__(klass)  # its __init__ would read the CSV again
        analyzer.csv_path, analyzer.calls = str(csv), calls  # what its __init__ sets
        t0 = time.perf_counter()
        analyzer.analyze()
        seconds[name] = time.perf_counter() - t0
    return {
        "rows": len(calls),
        "load_s": load_s,
        "analyzers": seconds,
        "cpu_s": time.process_time() - c0,
    }


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
