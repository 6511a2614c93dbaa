"""The five scenarios: their parameters, defaults and the traffic shape each one injects.

A scenario is a set of defaults on top of the common traffic model plus, for the incident
scenarios, one injected effect (a spike, a migration, a runaway loop). ``resolve_params`` merges
the caller's keyword arguments and rejects unknown ones by name.

Example:
    >>> p = resolve_params("viral_spike", days=30, params={"spike_factor": 5})
    >>> p["spike_factor"], p["onset_day"]
    (5.0, 15)
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

__all__ = ["COMMON_DEFAULTS", "SCENARIOS", "SCENARIO_DEFAULTS", "day_factors", "resolve_params"]

SCENARIOS: Final[tuple[str, ...]] = (
    "steady_growth",
    "viral_spike",
    "seasonal",
    "model_migration",
    "runaway_agent",
)

#: Parameters every scenario accepts (``None`` means "derived from days/customers").
COMMON_DEFAULTS: Final[dict[str, Any]] = {
    "volume": 1.0,  # multiplies every customer's request rate
    "calls_per_day": None,  # if set: target mean calls per day over the period (overrides volume)
    "growth_per_month": 0.02,  # compound growth of request rates, per 30 days
    "new_customer_share": 0.0,  # share of customers signing up during the period
    "weekend_factor": 0.7,  # weekend-day rate relative to a weekday
    "month_end_boost": 0.0,  # extra rate in the last days of each calendar month
    "month_end_days": 5,
    "error_rate_scale": 1.0,  # multiplies every model's error rate
}

SCENARIO_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "steady_growth": {"growth_per_month": 0.15, "new_customer_share": 0.2},
    "viral_spike": {"spike_factor": 10.0, "onset_day": None, "spike_customer": None},
    "seasonal": {"weekend_factor": 0.45, "month_end_boost": 0.6},
    "model_migration": {
        "share": 0.6,
        "from_model": "gpt-4",
        "to_model": "gpt-4o-mini",
        "migration_day": None,
    },
    "runaway_agent": {
        "runaway_customer": None,
        "loop_day": None,
        "loop_start_hour": 1.0,  # UTC hour the loop starts (overnight: nobody is watching)
        "loop_hours": 6.0,
        "loop_interval_s": 2.0,  # one call every this many seconds while the loop runs
        "loop_model": "gpt-4o",
        "loop_start_tokens": 3_000,
        "context_growth_tokens": 1_500,  # each retry re-sends the growing transcript
    },
}

_FLOAT_PARAMS: Final[frozenset[str]] = frozenset(
    {
        "volume",
        "growth_per_month",
        "new_customer_share",
        "weekend_factor",
        "month_end_boost",
        "error_rate_scale",
        "spike_factor",
        "share",
        "loop_start_hour",
        "loop_hours",
        "loop_interval_s",
    }
)


def resolve_params(scenario: str, days: int, params: dict[str, Any]) -> dict[str, Any]:
    """Merge defaults and caller parameters, fill day defaults, validate ranges.

    Raises ``ValueError`` naming an unknown scenario, an unknown parameter or a bad value.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario={scenario!r} is not one of {', '.join(SCENARIOS)}")
    if days < 1:
        raise ValueError(f"days={days!r} must be at least 1")
    allowed = {**COMMON_DEFAULTS, **SCENARIO_DEFAULTS[scenario]}
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for scenario {scenario!r}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    p = {**allowed, **params}
    for key in _FLOAT_PARAMS & p.keys():
        p[key] = float(p[key])
    for key in ("onset_day", "migration_day", "loop_day"):
        if key in p:
            p[key] = days // 2 if p[key] is None else int(p[key])
            if not 0 <= p[key] < days:
                raise ValueError(f"{key}={p[key]!r} must be within 0..{days - 1}")
    checks = {
        "volume": p["volume"] > 0,
        "weekend_factor": p["weekend_factor"] > 0,
        "month_end_boost": p["month_end_boost"] > -1,
        "new_customer_share": 0 <= p["new_customer_share"] <= 1,
        "growth_per_month": p["growth_per_month"] > -1,
        "error_rate_scale": p["error_rate_scale"] >= 0,
        "calls_per_day": p["calls_per_day"] is None or float(p["calls_per_day"]) > 0,
        "spike_factor": p.get("spike_factor", 1.0) > 0,
        "share": 0 <= p.get("share", 0.0) <= 1,
        "loop_hours": p.get("loop_hours", 1.0) > 0,
        "loop_interval_s": p.get("loop_interval_s", 1.0) > 0,
        "loop_start_hour": 0 <= p.get("loop_start_hour", 0.0) < 24,
    }
    for key, ok in checks.items():
        if not ok:
            raise ValueError(f"{key}={p[key]!r} is out of range")
    p["scenario"] = scenario
    return p


def day_factors(p: dict[str, Any], dates: np.ndarray) -> dict[str, np.ndarray]:
    """Per-day rate factors: weekly rhythm, month-end cycle and growth (each mean ~1).

    ``dates`` are numpy ``datetime64[D]`` days. Returns the three factors and their product.
    """
    days = len(dates)
    weekday = (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7  # Monday = 0
    weekend = weekday >= 5
    wf = p["weekend_factor"]
    weekly = np.where(weekend, wf, 1.0) / ((5 + 2 * wf) / 7)
    month = dates.astype("datetime64[M]")
    next_month_start = (month + 1).astype("datetime64[D]")
    days_left = (next_month_start - dates.astype("datetime64[D]")).astype(np.int64)
    month_end = days_left <= p["month_end_days"]
    share_end = p["month_end_days"] / 30.4
    monthly = np.where(month_end, 1.0 + p["month_end_boost"], 1.0)
    monthly = monthly / (1.0 + p["month_end_boost"] * share_end)
    t = np.arange(days) - (days - 1) / 2  # centred: mean factor ~1 over the period
    growth = (1.0 + p["growth_per_month"]) ** (t / 30.0)
    return {
        "weekly": weekly,
        "monthly": monthly,
        "growth": growth,
        "total": weekly * monthly * growth,
        "weekend": weekend,
        "month_end": month_end,
    }
