"""The scenarios: their parameters, defaults and the traffic shape each one injects.

A scenario is a set of defaults on top of the common traffic model plus, for the incident
scenarios, one injected effect (a spike, a migration, a runaway loop; in 2026: a cache-miss
regression, reasoning-effort creep, a retry storm, a dated price change; ``incidents_2026``
injects those four at distinct days). ``resolve_params`` merges the caller's keyword arguments
and rejects unknown ones by name.

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
    "cache_regression",
    "reasoning_creep",
    "retry_storm",
    "price_change",
    "incidents_2026",
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
    "fleet": None,  # "2026" or "2024"; None: the scenario's (2024 for model_migration)
}

#: The four 2026 incidents, each a set of knobs (a scenario of its own, all four in
#: incidents_2026).
_CACHE_REGRESSION: Final[dict[str, Any]] = {
    "regression_feature": "chat_widget",  # a deploy changes this feature's prompt prefix
    "regression_day": None,
    "regression_hit_rate": 0.0,  # its cache hit rate from then on (before: the feature's)
}
_REASONING_CREEP: Final[dict[str, Any]] = {
    "creep_feature": "repo_qa",  # reasoning_effort raised for this feature (dev_copilot)
    "creep_day": None,
    "creep_factor": 5.0,  # x reasoning tokens per call from then on (visible output flat)
}
_RETRY_STORM: Final[dict[str, Any]] = {
    "storm_customer": None,
    "storm_day": None,
    "storm_start_hour": None,  # UTC; None: 10:00 local time of the customer (its busy hours)
    "storm_hours": 3.0,
    "storm_error_rate": 0.7,  # share of attempts that fail while the storm lasts
    "max_retries": 8,  # the client retries a failed call up to this many times...
    "retry_delay_s": 0.5,  # ...this soon (no backoff: the aggressive client of the incident)
}
_PRICE_CHANGE: Final[dict[str, Any]] = {
    "price_model": "gpt-5.6-luna",  # a fleet model with a dated price change in genai-prices
}
#: Where incidents_2026 puts its incidents, as a fraction of ``days`` (the price change sits
#: where the package dates it: 2026-07-30, day 17 from the default start).
INCIDENT_2026_DAYS: Final[dict[str, float]] = {
    "regression_day": 0.25,
    "creep_day": 0.45,
    "storm_day": 0.8,
}

SCENARIO_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "steady_growth": {"growth_per_month": 0.15, "new_customer_share": 0.2},
    "viral_spike": {"spike_factor": 10.0, "onset_day": None, "spike_customer": None},
    "seasonal": {"weekend_factor": 0.45, "month_end_boost": 0.6},
    "model_migration": {  # the seed's historic migration: the 2024 fleet by default
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
        "loop_model": None,  # None: gpt-5.6-luna (2026 fleet) or gpt-4o (2024 fleet)
        "loop_start_tokens": 3_000,
        "context_growth_tokens": 1_500,  # each retry re-sends the growing transcript
    },
    "cache_regression": dict(_CACHE_REGRESSION),
    "reasoning_creep": dict(_REASONING_CREEP),
    "retry_storm": dict(_RETRY_STORM),
    "price_change": dict(_PRICE_CHANGE),
    "incidents_2026": {**_CACHE_REGRESSION, **_REASONING_CREEP, **_RETRY_STORM, **_PRICE_CHANGE},
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
        "regression_hit_rate",
        "creep_factor",
        "storm_hours",
        "storm_error_rate",
        "retry_delay_s",
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
    if p["fleet"] is None:
        p["fleet"] = "2024" if scenario == "model_migration" else "2026"
    if p["fleet"] not in ("2026", "2024"):
        raise ValueError(f"fleet={p['fleet']!r} is not one of 2026, 2024")
    if p.get("loop_model", "") is None:
        p["loop_model"] = "gpt-5.6-luna" if p["fleet"] == "2026" else "gpt-4o"
    if p.get("storm_start_hour") is not None:
        p["storm_start_hour"] = float(p["storm_start_hour"])
    if "max_retries" in p:
        p["max_retries"] = int(p["max_retries"])
    day_keys = ("onset_day", "migration_day", "loop_day", "regression_day", "creep_day")
    for key in (*day_keys, "storm_day"):
        if key in p:
            if p[key] is None and scenario == "incidents_2026":
                p[key] = round(INCIDENT_2026_DAYS[key] * days)
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
        "regression_hit_rate": 0 <= p.get("regression_hit_rate", 0.0) <= 1,
        "creep_factor": p.get("creep_factor", 1.0) > 0,
        "storm_start_hour": p.get("storm_start_hour") is None or 0 <= p["storm_start_hour"] < 24,
        "storm_hours": p.get("storm_hours", 1.0) > 0,
        "storm_error_rate": 0 <= p.get("storm_error_rate", 0.0) < 1,
        "max_retries": 0 <= p.get("max_retries", 0) <= 50,
        "retry_delay_s": p.get("retry_delay_s", 1.0) > 0,
    }
    if p["fleet"] != "2026":
        for key in ("regression_feature", "creep_feature", "storm_customer", "price_model"):
            if key in p:
                raise ValueError(
                    f"scenario {scenario!r} needs the 2026 fleet (fleet={p['fleet']!r}): its "
                    "cache, reasoning and dated prices exist there only"
                )
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
