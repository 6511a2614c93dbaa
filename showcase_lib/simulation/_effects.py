"""The 2026 incidents on the per-call arrays, and their ground truth measured back from the data.

The simulation keeps its per-call arrays in one dict (``Calls``: name -> array, time-sorted), so
an effect that adds calls (a retry storm) extends and re-sorts them all at once. Costs of a
subset (before/after windows, counterfactuals, fixed prices) go through ``pricing.cost_usd``.

Example:
    >>> import numpy as np
    >>> ts, order = sort_times(np.array([30, 10, 20, 10]), 0, 100)
    >>> ts.tolist(), order.tolist()
    ([10, 10, 20, 30], [1, 3, 2, 0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib import pricing
from showcase_lib.schema import SERVICE_TIERS

__all__ = [
    "Catalog",
    "breakdown_calls",
    "categorical",
    "expand_retries",
    "price_calls",
    "price_change_row",
    "sort_times",
]

MS_PER_HOUR = 3_600_000

#: name -> per-call array (time-sorted, all the same length).
Calls = dict[str, np.ndarray]


def _small_codes(codes: np.ndarray, n_categories: int) -> np.ndarray:
    dtype = np.int8 if n_categories < 127 else np.int16 if n_categories < 32_767 else np.int32
    return codes.astype(dtype, copy=False)


def categorical(codes: np.ndarray, categories: Any) -> pd.Categorical:
    """A categorical from integer codes without validation (codes are in range by construction)."""
    cats = pd.Index(list(categories))
    return pd.Categorical.from_codes(
        _small_codes(codes, len(cats)), dtype=pd.CategoricalDtype(cats), validate=False
    )


def sort_times(ts: np.ndarray, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted times and the stable sorting permutation (ties keep generation order).

    Packs (time, position) into one int64 and sorts values, which numpy does several times
    faster than ``argsort``; falls back to a stable argsort when the two don't fit in 63 bits.
    ``ts`` is reused in place.
    """
    n = len(ts)
    pos_bits = max(1, (n - 1).bit_length())
    time_bits = max(1, int(end_ms - start_ms).bit_length())
    if pos_bits + time_bits > 63:
        order = np.argsort(ts, kind="stable")
        return ts[order], order
    key = ts  # reused in place
    key -= start_ms
    key <<= pos_bits
    key += np.arange(n, dtype=np.int64)
    key.sort()
    order = key & ((1 << pos_bits) - 1)
    key >>= pos_bits
    key += start_ms
    return key, order


@dataclass(frozen=True, slots=True)
class Catalog:
    """The fleet's entries and their provider and model codes (for pricing and columns)."""

    entries: tuple[tuple[str, str], ...]
    provider: np.ndarray
    model: np.ndarray
    model_names: list[str]


def _record(catalog: Catalog, calls: Mapping[str, np.ndarray]) -> dict[str, Any]:
    entry = calls["entry"]
    return {
        "provider": categorical(catalog.provider[entry], pricing.PROVIDERS),
        "model": categorical(catalog.model[entry], catalog.model_names),
        "input_tokens": calls["inp"],
        "output_tokens": calls["out"],
        "cache_read_tokens": calls["read"],
        "cache_write_tokens": calls["write"],
        "cache_write_1h_tokens": calls["w1h"],
        "reasoning_tokens": calls["reasoning"],
        "service_tier": categorical(calls["tier"], SERVICE_TIERS),
        "timestamp": np.asarray(calls["ts"], dtype=np.int64).view("datetime64[ms]"),
    }


def price_calls(
    catalog: Catalog, calls: Mapping[str, np.ndarray], at: pd.Timestamp | None = None
) -> np.ndarray:
    """USD per call of ``calls`` (keys entry, ts in ms, inp, out, read, write, w1h, reasoning,
    tier), the full taxonomy at each call's timestamp (or at ``at``)."""
    return pricing.cost_usd(_record(catalog, calls), at=at).to_numpy()


def breakdown_calls(catalog: Catalog, calls: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``pricing.cost_breakdown`` of ``calls`` (as :func:`price_calls`)."""
    return pricing.cost_breakdown(_record(catalog, calls))


def subset(calls: Mapping[str, np.ndarray], idx: np.ndarray, **override: np.ndarray) -> Calls:
    """The calls at ``idx`` (every array gathered), with some arrays replaced."""
    out = {k: v[idx] for k, v in calls.items() if k not in override}
    out.update(override)
    return out


@dataclass(frozen=True, slots=True)
class Storm:
    """A retry storm: whose calls, when (ms), how often attempts fail, how the client retries."""

    customer: int
    start_ms: int
    end_ms: int
    error_rate: float
    max_retries: int
    delay_ms: int


def expand_retries(
    rng: np.random.Generator, storm: Storm, calls: Calls, period: tuple[int, int]
) -> np.ndarray:
    """Add the retries of the storm's failed calls to ``calls`` (in place) and re-sort by time.

    Each call of the customer inside the window fails with ``error_rate`` per attempt; the
    client retries a failure after ``delay_ms`` (plus up to 200 ms of jitter), up to
    ``max_retries`` times. Retries copy the call (same request, trace, session, tokens) and
    keep its ``req`` key, so they share its request_id. Returns the mask of failed attempts.
    """
    ts, cust = calls["ts"], calls["cust"]
    sel = np.flatnonzero((cust == storm.customer) & (ts >= storm.start_ms) & (ts < storm.end_ms))
    failures = rng.geometric(1.0 - storm.error_rate, len(sel)) - 1  # failures before a success
    attempts = np.minimum(failures, storm.max_retries) + 1
    all_fail = failures > storm.max_retries
    extra = attempts - 1
    src = np.repeat(sel, extra)
    first = np.cumsum(extra) - extra
    j = np.arange(len(src)) - np.repeat(first, extra) + 1  # attempt number 1..extra
    last = np.repeat(attempts - 1, extra)
    failed_new = (j < last) | np.repeat(all_fail, extra)
    jitter = rng.integers(0, 200, len(src))
    n = len(ts)
    failed = np.zeros(n + len(src), dtype=bool)
    failed[sel[failures > 0]] = True
    failed[n:] = failed_new
    new_ts = ts[src] + j * storm.delay_ms + jitter
    for key in list(calls):
        calls[key] = np.concatenate([calls[key], calls[key][src]])
    calls["ts"][n:] = np.minimum(new_ts, period[1] - 1)
    sorted_ts, order = sort_times(calls["ts"].copy(), *period)
    for key in list(calls):
        calls[key] = sorted_ts if key == "ts" else calls[key][order]
    return failed[order]


@dataclass(frozen=True, slots=True)
class Window:
    """Where an effect applies: from ``start_ms`` to the period's end, on one feature code."""

    feature: int
    feature_id: str
    start_ms: int
    end_ms: int


def _ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def cache_regression_row(
    p: Mapping[str, Any], calls: Mapping[str, np.ndarray], cost: np.ndarray, window: Window
) -> dict[str, Any]:
    """Ground truth of the cache-miss regression, measured on the calls.

    ``calls`` holds ``cf_read`` / ``cf_write`` / ``cf_w1h`` (the cache tokens the calls would
    have had without the deploy) and ``catalog`` is passed in ``p["_catalog"]``.
    """
    catalog = p["_catalog"]
    feat = calls["feature"] == window.feature
    after = np.flatnonzero(feat & (calls["ts"] >= window.start_ms))
    before = np.flatnonzero(feat & (calls["ts"] < window.start_ms))
    at = _ts(window.start_ms)
    fixed_after = price_calls(catalog, subset(calls, after), at=at)
    fixed_before = price_calls(catalog, subset(calls, before), at=at)
    cf = subset(
        calls,
        after,
        read=calls["cf_read"][after],
        write=calls["cf_write"][after],
        w1h=calls["cf_w1h"][after],
    )
    counterfactual = price_calls(catalog, cf)
    actual = float(cost[after].sum())
    hit_before = float((calls["read"][before] > 0).mean()) if len(before) else float("nan")
    hit_after = float((calls["read"][after] > 0).mean()) if len(after) else float("nan")
    per_call = _ratio(float(fixed_after.mean()), float(fixed_before.mean()))
    return dict(
        kind="cache_miss_regression",
        driver="cache_read",
        customer_id=None,
        feature_id=window.feature_id,
        start=at,
        end=_ts(window.end_ms),
        effect=_ratio(actual, float(counterfactual.sum())),
        effect_unit="x cost per call of the feature",
        observed_effect=per_call,
        extra_calls=float("nan"),
        extra_cost_usd=actual - float(counterfactual.sum()),
        description=(
            f"A deploy on day {p['regression_day']} changes the prompt prefix of "
            f"{window.feature_id}: its cache hit rate (calls with cache reads) falls from "
            f"{hit_before:.0%} to {hit_after:.0%} at flat volume; the prefix is billed as "
            "uncached input (and re-written on explicit caches). effect = cost of its later "
            "calls / the same calls with the old cache; observed_effect = cost per call after / "
            "before at the deploy-day prices; extra_cost_usd = cost above the counterfactual."
        ),
    )


def reasoning_creep_row(
    p: Mapping[str, Any], calls: Mapping[str, np.ndarray], cost: np.ndarray, window: Window
) -> dict[str, Any]:
    """Ground truth of the reasoning-effort creep (``calls`` holds ``cf_reasoning``)."""
    catalog = p["_catalog"]
    feat = calls["feature"] == window.feature
    after = np.flatnonzero(feat & (calls["ts"] >= window.start_ms))
    before = np.flatnonzero(feat & (calls["ts"] < window.start_ms))
    reasoning = calls["reasoning"]
    cf_r = np.minimum(calls["cf_reasoning"][after], reasoning[after])
    cf_out = calls["out"][after] - (reasoning[after] - cf_r)
    counterfactual = price_calls(catalog, subset(calls, after, reasoning=cf_r, out=cf_out))
    actual = float(cost[after].sum())
    visible = calls["out"] - reasoning
    r_ratio = _ratio(float(reasoning[after].mean()), float(reasoning[before].mean()))
    v_ratio = _ratio(float(visible[after].mean()), float(visible[before].mean()))
    return dict(
        kind="reasoning_creep",
        driver="reasoning",
        customer_id=None,
        feature_id=window.feature_id,
        start=_ts(window.start_ms),
        end=_ts(window.end_ms),
        effect=float(p["creep_factor"]),
        effect_unit="x reasoning tokens per call of the feature",
        observed_effect=r_ratio,
        extra_calls=float("nan"),
        extra_cost_usd=actual - float(counterfactual.sum()),
        description=(
            f"reasoning_effort of {window.feature_id} is raised on day {p['creep_day']}: "
            f"reasoning tokens per call x{p['creep_factor']:g} on the reasoning-capable models, "
            f"visible output flat (x{v_ratio:.2f} observed); billed as output. observed_effect = "
            "reasoning tokens per call after / before; extra_cost_usd = cost above the same "
            "calls at the old effort."
        ),
    )


def retry_storm_row(
    p: Mapping[str, Any], calls: Mapping[str, np.ndarray], cost: np.ndarray, storm: Storm
) -> dict[str, Any]:
    """Ground truth of the retry storm (``calls`` holds ``failed`` and ``req``)."""
    inside = (
        (calls["cust"] == storm.customer)
        & (calls["ts"] >= storm.start_ms)
        & (calls["ts"] < storm.end_ms)
    )
    n_calls = int(inside.sum())
    n_requests = len(np.unique(calls["req"][inside]))
    failed = calls["failed"] & (calls["cust"] == storm.customer)
    customer_id = p["_customer_ids"][storm.customer]
    expected = (1 - storm.error_rate ** (storm.max_retries + 1)) / (1 - storm.error_rate)
    return dict(
        kind="retry_storm",
        driver="calls",
        customer_id=customer_id,
        feature_id=None,
        start=_ts(storm.start_ms),
        end=_ts(storm.end_ms),
        effect=expected,
        effect_unit="x billed calls per request in the window",
        observed_effect=_ratio(n_calls, n_requests),
        extra_calls=float(n_calls - n_requests),
        extra_cost_usd=float(cost[failed].sum()),
        description=(
            f"A provider incident ({storm.error_rate:.0%} of attempts fail) meets "
            f"{customer_id}'s aggressive client: each failure is retried after "
            f"{storm.delay_ms / 1000:g} s, up to {storm.max_retries} times, for "
            f"{(storm.end_ms - storm.start_ms) / MS_PER_HOUR:g} h on day {p['storm_day']}. "
            "Retries share the request_id (and trace) of the call; every attempt is billed. "
            "observed_effect = calls / distinct requests in the window; extra_calls = the "
            "retries; extra_cost_usd = cost of the failed attempts."
        ),
    )


def price_change_row(
    p: Mapping[str, Any], calls: Mapping[str, np.ndarray], cost: np.ndarray, change: Any
) -> dict[str, Any]:
    """Ground truth of the dated price change ``change`` (a row of ``pricing.price_changes``)."""
    catalog: Catalog = p["_catalog"]
    code = p["_price_entries"]
    on_model = np.isin(calls["entry"], code)
    t0 = int(change.start.value // 1_000_000)
    after = np.flatnonzero(on_model & (calls["ts"] >= t0))
    before = np.flatnonzero(on_model & (calls["ts"] < t0))
    old = price_calls(catalog, subset(calls, after), at=change.start - pd.Timedelta(seconds=1))
    actual = float(cost[after].sum())
    per_call = _ratio(float(cost[after].mean()), float(cost[before].mean()))
    tokens = calls["inp"] + calls["out"]
    usage = _ratio(float(tokens[after].mean()), float(tokens[before].mean()))
    model = p["price_model"]
    return dict(
        kind="price_change",
        driver="price",
        customer_id=None,
        feature_id=None,
        start=change.start,
        end=p["_period_end"],
        effect=_ratio(actual, float(old.sum())),
        effect_unit=f"x cost of {model} calls at the same tokens",
        observed_effect=per_call,
        extra_calls=float("nan"),
        extra_cost_usd=actual - float(old.sum()),
        description=(
            f"genai-prices dates a price change of {model} at {change.start:%Y-%m-%d %H:%M} UTC: "
            f"input ${change.input_before_usd_per_mtok:g} -> ${change.input_usd_per_mtok:g}, "
            f"output ${change.output_before_usd_per_mtok:g} -> ${change.output_usd_per_mtok:g} "
            f"per MTok. Usage is flat (tokens per call x{usage:.2f}); the cost moves with the "
            "price, for every customer: not a usage anomaly. effect = cost of the later calls / "
            "the same calls at the old price; observed_effect = cost per call after / before; "
            "extra_cost_usd = the change of their cost (negative = saved)."
        ),
    )
