"""``simulate``: generate a seeded, vectorised day-by-day log of AI calls for one scenario.

How it works (no per-call Python loop anywhere):

1. draw the customers (``customers.make_customers``);
2. expected requests per (day, customer) = customer rate x weekly/monthly/growth factors x the
   scenario's multiplier; draw Poisson counts and expand them into *requests* (roots);
3. give each request an hour (regional rhythm), a feature and task, a model (by task and tier),
   and a number of calls (agent and RAG requests chain several calls in one trace);
4. expand requests into calls spaced a few seconds apart, sort once by time;
5. draw tokens per call and, on the 2026 fleet, the taxonomy: the feature's prompt prefix and
   its cache reads / writes, reasoning tokens, the batch tier, a few long documents; inject the
   scenario's 2026 effects (``_effects``); draw latency, status and stop reason; price every
   call with ``pricing.cost_usd`` (the full bill at its timestamp);
6. build ids as Arrow strings and categoricals from integer codes; measure the incidents.

Example:
    >>> from showcase_lib.simulation import simulate
    >>> sim = simulate("viral_spike", days=10, customers=20, seed=1)
    >>> sim.calls["timestamp"].is_monotonic_increasing
    True
    >>> sim.incidents["kind"].tolist()
    ['viral_spike']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib import pricing
from showcase_lib.schema import (
    ALL_COLUMNS,
    ENVIRONMENTS,
    SERVICE_TIERS,
    STATUSES,
    STOP_REASONS,
    SUBSCRIPTION_TIERS,
)

from . import _effects as effects
from . import _fleet as fleet
from . import _traffic as traffic
from ._customers import FEATURES, PRODUCTS, REGIONS, TASK_TYPES, USER_AGENTS, make_customers
from ._effects import categorical as _categorical
from ._effects import sort_times as _sort_times
from ._ids import fixed_offsets, hex_ids
from ._ids import release_freed_memory as _release_freed_memory
from ._scenarios import day_factors, resolve_params

#: Default first day: the 2026 fleet's window, placed so genai-prices' dated gpt-5.6-luna price
#: cut (2026-07-30) falls inside a 30-day simulation (day 17), after enough days of history.
DEFAULT_START = "2026-07-13"
MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000
#: Share of requests per environment (production, staging, development): most spend is
#: production, a few percent is testing (the non-production share the audit reports on).
_ENV_SHARE = (0.92, 0.05, 0.03)
#: Share of a customer's requests from its main client app; the rest from any other.
_PRIMARY_UA_SHARE = 0.85
_SESSION_HOURS = 2  # a session is one end user within a 2-hour block

INCIDENT_COLUMNS = (
    "kind",
    "driver",
    "customer_id",
    "feature_id",
    "start",
    "end",
    "effect",
    "effect_unit",
    "observed_effect",
    "extra_calls",
    "extra_cost_usd",
    "description",
)


@dataclass
class Simulation:
    """Result of ``simulate``: the calls, the ground truth of what was injected, the customers.

    Example:
        >>> from showcase_lib.simulation import simulate
        >>> sim = simulate("steady_growth", days=3, customers=5, seed=0)
        >>> sim.params["scenario"], sim.params["seed"]
        ('steady_growth', 0)
    """

    calls: pd.DataFrame
    incidents: pd.DataFrame
    customers: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Simulation(scenario={self.params.get('scenario')!r}, calls={len(self.calls):,}, "
            f"customers={len(self.customers)}, incidents={len(self.incidents)}, "
            f"seed={self.params.get('seed')!r})"
        )


def _entry_code(
    model: str, entries: tuple[tuple[str, str], ...], prefer_provider: str | None = None
) -> int:
    hits = [i for i, (_, m) in enumerate(entries) if m == model]
    if not hits:
        known = sorted({m for _, m in entries})
        raise ValueError(
            f"model={model!r} is not in the simulated fleet; known: {', '.join(known)}"
        )
    for i in hits:
        if entries[i][0] == prefer_provider:
            return i
    return hits[0]


def _pick_customer(
    rng: np.random.Generator, cust: pd.DataFrame, requested: str | None, eligible: np.ndarray
) -> int:
    if requested is not None:
        idx = np.flatnonzero(cust["customer_id"].to_numpy() == requested)
        if len(idx) == 0:
            raise ValueError(f"customer {requested!r} does not exist (customer_id cust_0001...)")
        return int(idx[0])
    pool = np.flatnonzero(eligible)
    if len(pool) == 0:
        pool = np.arange(len(cust))
    return int(rng.choice(pool))


def _smallest_int(n: int) -> type[np.signedinteger[Any]]:
    return np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32


@contextlib.contextmanager
def _small_pages() -> Iterator[None]:
    """Ask numpy not to request transparent huge pages while the frame is built.

    numpy madvises large arrays for huge pages; on virtual machines where the kernel compacts
    memory on each huge-page fault, first-touching fresh arrays got ~6x slower (measured here:
    160 MB in 0.41 s with the hint, 0.06 s without). A simulation writes ~150 bytes of fresh
    memory per call, so the hint is switched off for its duration and restored afterwards.
    """
    try:
        from numpy._core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage
    except ImportError:  # another numpy layout: leave the default
        yield
        return
    previous = _get_madvise_hugepage()
    _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(previous)


def simulate(
    scenario: str = "steady_growth",
    *,
    days: int = 30,
    customers: int = 100,
    seed: int = 0,
    start: str = DEFAULT_START,
    **params: Any,
) -> Simulation:
    """Simulate ``days`` of AI calls from ``customers`` customers under one scenario.

    The default traffic is the 2026 fleet (``fleet="2026"``: gpt-5.5, gpt-5.6-luna, gpt-5.4-nano,
    o3, claude-opus-5 / sonnet-5 / haiku-4-5, gemini-3.1-pro-preview / 3.5-flash / 3.5-flash-lite,
    Claude on Bedrock) with prompt-cache reads and writes per feature, reasoning tokens per task,
    a batch share and a few long-context calls; the default window starts on 2026-07-13, so the
    package's gpt-5.6-luna price cut of 2026-07-30 falls on day 17. ``fleet="2024"`` is the fleet
    the book started with (no cache, reasoning nor batch; model_migration's default).

    Scenarios: ``steady_growth``, ``viral_spike`` (spike_factor, onset_day, spike_customer),
    ``seasonal`` (weekend_factor, month_end_boost), ``model_migration`` (share, from_model,
    to_model, migration_day), ``runaway_agent`` (runaway_customer, loop_day, loop_start_hour,
    loop_hours, loop_interval_s, loop_model, loop_start_tokens, context_growth_tokens),
    ``cache_regression`` (regression_feature, regression_day, regression_hit_rate),
    ``reasoning_creep`` (creep_feature, creep_day, creep_factor), ``retry_storm``
    (storm_customer, storm_day, storm_start_hour, storm_hours, storm_error_rate, max_retries,
    retry_delay_s), ``price_change`` (price_model: a fleet model with a dated price change inside
    the window) and ``incidents_2026`` (all four at distinct days). Common knobs: ``volume`` or
    ``calls_per_day`` (size), growth_per_month, weekend_factor, error_rate_scale, fleet. Same
    arguments and seed -> identical frames.

    Example:
        >>> sim = simulate("model_migration", days=8, customers=30, seed=3, share=1.0)
        >>> after = sim.calls[sim.calls.timestamp >= "2026-07-17"]
        >>> int((after.model == "gpt-4").sum())
        0
        >>> sim = simulate("cache_regression", days=6, customers=20, seed=1, regression_day=3)
        >>> sim.incidents[["kind", "driver", "feature_id"]].values.tolist()
        [['cache_miss_regression', 'cache_read', 'chat_widget']]
    """
    p = resolve_params(scenario, days, params)
    p.update(days=int(days), customers=int(customers), seed=seed, start=str(start))
    with _small_pages():
        return _simulate(p)


@dataclass(frozen=True, slots=True)
class _Grid:
    """The (day, customer) grid the ground truth is measured on."""

    start_ms: int
    days: int
    n_customers: int


@dataclass(frozen=True, slots=True)
class _CallArrays:
    """Per-call arrays (time-sorted) that the ground truth is measured from."""

    ts: np.ndarray
    cust: np.ndarray
    root: np.ndarray  # index of the call's request
    cost: np.ndarray
    inp: np.ndarray
    out: np.ndarray


def _simulate(p: dict[str, Any]) -> Simulation:
    """The simulation proper, from resolved parameters (see :func:`simulate`)."""
    scenario, days, customers, seed, start = (
        p["scenario"],
        p["days"],
        p["customers"],
        p["seed"],
        p["start"],
    )
    rng = np.random.default_rng(seed)
    start_ts = pd.Timestamp(start)
    start_ts = (
        start_ts.tz_localize("UTC") if start_ts.tzinfo is None else start_ts.tz_convert("UTC")
    )
    start_ts = start_ts.normalize()
    start_ms = start_ts.value // 1_000_000
    end_ms = start_ms + days * MS_PER_DAY
    dates = np.datetime64(start_ts.tz_localize(None).date(), "D") + np.arange(days)
    profiles = fleet.fleet_profiles(p["fleet"])
    entries = traffic.catalog_entries(profiles)
    is_2026 = p["fleet"] == "2026"
    has = _effects_of(scenario)
    feature_ids = [f for f, _, _ in FEATURES]
    price_change = _price_change_in_window(p, entries, (start_ts, days)) if "price" in has else None

    cust = make_customers(rng, customers, new_customer_share=p["new_customer_share"], days=days)
    n_c = len(cust)
    cust_int = _smallest_int(n_c)

    def codes(col: str, values: Any) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(values)}
        return cust[col].map(lookup).to_numpy(np.int8)

    tier = codes("subscription_tier", SUBSCRIPTION_TIERS)
    product = codes("product_id", PRODUCTS)
    region = codes("region", [r[0] for r in REGIONS])
    primary_ua = codes("user_agent", USER_AGENTS)
    org_names = sorted(cust["organization_id"].unique())
    cust_org = cust["organization_id"].map({o: i for i, o in enumerate(org_names)})
    cust_org = cust_org.to_numpy(_smallest_int(len(org_names)))
    end_users = cust["end_users"].to_numpy(np.int64)
    signup = cust["signup_day"].to_numpy(np.int64)
    base_rate = cust["requests_per_day"].to_numpy(float)

    task_of_feature = np.array([TASK_TYPES.index(t) for _, _, t in FEATURES], dtype=np.int8)
    ta = traffic.task_arrays()
    feat_weight = np.zeros((len(PRODUCTS), len(FEATURES)))
    for f, (fid, prod, _) in enumerate(FEATURES):
        share = next(s for fid2, _, s in PRODUCTS[prod] if fid2 == fid)
        feat_weight[list(PRODUCTS).index(prod), f] = share
    calls_per_request = 1.0 + feat_weight @ ta["extra"][task_of_feature]  # per product

    # --- scenario actors (drawn before traffic so the traffic draws don't shift them)
    who: int | None = None
    storm_who: int | None = None
    if scenario == "viral_spike":
        who = _pick_customer(
            rng, cust, p["spike_customer"], (cust["archetype"] == "power").to_numpy()
        )
        signup[who] = 0
    elif scenario == "runaway_agent":
        has_agent = np.isin(cust["product_id"].to_numpy(), ["dev_copilot", "data_insights"])
        who = _pick_customer(rng, cust, p["runaway_customer"], has_agent)
        signup[who] = 0
    if "storm" in has:
        busy = (cust["archetype"] == "heavy").to_numpy()
        storm_who = _pick_customer(rng, cust, p["storm_customer"], busy)
        signup[storm_who] = 0
        if p["storm_start_hour"] is None:  # 10:00 local time of the customer
            p["storm_start_hour"] = float((10 - cust["utc_offset_h"].iloc[storm_who]) % 24)
    cust["signup_day"] = signup

    # --- expected requests per (day, customer)
    factors = day_factors(p, dates)
    active = np.arange(days)[:, None] >= signup[None, :]
    rate = np.outer(factors["total"], base_rate) * active
    # expected calls per day before the scenario's own effect (the size knob targets this)
    nominal_calls_per_day = float((rate @ calls_per_request[product]).sum() / days)
    scale = p["volume"]
    if p["calls_per_day"] is not None:
        scale = float(p["calls_per_day"]) / nominal_calls_per_day
    rate *= scale
    if scenario == "viral_spike":
        rate[p["onset_day"] :, who] *= p["spike_factor"]
    counts = rng.poisson(rate).ravel()

    # --- requests (roots), in (day, customer) order, compact dtypes
    cell = np.repeat(np.arange(days * n_c, dtype=np.int64), counts)
    r_day = (cell // n_c).astype(np.int32)
    r_cust = (cell % n_c).astype(np.int32)
    del cell, counts
    n_roots = len(r_day)
    hour_prob, hour_alias = traffic.hour_tables()
    groups = region[r_cust] * np.int8(2) + factors["weekend"].astype(np.int8)[r_day]
    hour = traffic.draw(rng, hour_prob, hour_alias, groups)
    r_ts = r_day * np.int64(MS_PER_DAY) + start_ms
    r_ts += hour.astype(np.int64) * MS_PER_HOUR
    r_ts += rng.integers(0, MS_PER_HOUR, n_roots)
    f_prob, f_alias = traffic.alias_table(feat_weight)
    r_feat = traffic.draw(rng, f_prob, f_alias, product[r_cust])
    r_task = task_of_feature[r_feat]
    m_prob, m_alias = fleet.fleet_model_tables() if is_2026 else traffic.model_tables()
    r_entry = traffic.draw(rng, m_prob, m_alias, r_task * np.int8(3) + tier[r_cust])
    e_prob, e_alias = traffic.alias_table(np.array([_ENV_SHARE]))
    r_env = traffic.draw(rng, e_prob, e_alias, np.zeros(n_roots, dtype=np.int8))
    other_ua = rng.integers(0, len(USER_AGENTS), n_roots, dtype=np.int8)
    r_ua = np.where(
        rng.random(n_roots, dtype=np.float32) < _PRIMARY_UA_SHARE, primary_ua[r_cust], other_ua
    )
    del other_ua
    user = (rng.random(n_roots, dtype=np.float32) * end_users[r_cust]).astype(np.int32)
    r_k = rng.poisson(ta["extra"][r_task]).astype(np.int32)
    np.minimum(r_k, 30, out=r_k)
    r_k += 1
    r_gap = rng.lognormal(np.log(2_500.0), 0.5, n_roots).astype(np.int32)

    loop_root = -1
    if scenario == "runaway_agent":
        assert who is not None
        agent_feats = [
            f
            for f, (_, pr, t) in enumerate(FEATURES)
            if t == "agent_step" and pr == cust["product_id"].iloc[who]
        ]
        if not agent_feats:  # a customer without an agent feature: use the first agent feature
            agent_feats = [f for f, (_, _, t) in enumerate(FEATURES) if t == "agent_step"]
        n_loop = max(1, round(p["loop_hours"] * 3600 / p["loop_interval_s"]))
        loop_ts = start_ms + p["loop_day"] * MS_PER_DAY + round(p["loop_start_hour"] * MS_PER_HOUR)
        loop_root = n_roots
        r_day = np.append(r_day, np.int32(p["loop_day"]))
        r_cust = np.append(r_cust, np.int32(who))
        hour = np.append(hour, np.int8(int(p["loop_start_hour"])))
        r_ts = np.append(r_ts, loop_ts)
        r_feat = np.append(r_feat, np.int8(agent_feats[0]))
        r_task = np.append(r_task, np.int8(TASK_TYPES.index("agent_step")))
        r_entry = np.append(r_entry, np.int8(_entry_code(p["loop_model"], entries)))
        r_env = np.append(r_env, np.int8(0))
        r_ua = np.append(r_ua, primary_ua[who])
        user = np.append(user, np.int32(0))
        r_k = np.append(r_k, np.int32(n_loop))
        r_gap = np.append(r_gap, np.int32(round(p["loop_interval_s"] * 1000)))
        n_roots += 1
    # batch tier per request (2026 fleet): backfills and evaluations of the batch features
    if is_2026:
        r_batch = (
            rng.random(n_roots, dtype=np.float32) < fleet.feature_arrays()["batch"][r_feat]
        ).astype(np.int8)
        if loop_root >= 0:
            r_batch[loop_root] = 0
    else:
        r_batch = np.zeros(n_roots, dtype=np.int8)

    r_entry_before = r_entry
    if scenario == "model_migration":
        _entry_code(p["from_model"], entries)  # validates the name
        migrate_from = np.array([m == p["from_model"] for _, m in entries], dtype=bool)
        to_for_entry = np.array(
            [_entry_code(p["to_model"], entries, prov) for prov, _ in entries], dtype=np.int8
        )
        moved = (
            migrate_from[r_entry]
            & (r_day >= p["migration_day"])
            & (rng.random(n_roots, dtype=np.float32) < p["share"])
        )
        r_entry = np.where(moved, to_for_entry[r_entry], r_entry)
        del moved
    blocks = 24 // _SESSION_HOURS
    r_session = (r_cust.astype(np.int64) * days + r_day) * blocks + hour // _SESSION_HOURS
    r_session *= int(end_users.max())
    r_session += user
    del user, hour, r_day

    # --- calls: expand requests into chained calls, sort once by time
    root = np.repeat(np.arange(n_roots, dtype=np.int32), r_k)
    first = np.cumsum(r_k, dtype=np.int64)
    first -= r_k
    step = np.arange(len(root), dtype=np.int64)
    step -= np.repeat(first, r_k)
    del first, r_k
    step = step.astype(np.int32)
    ts = r_gap[root].astype(np.int64)
    ts *= step
    ts += r_ts[root]
    del r_gap, r_ts
    np.minimum(ts, end_ms - 1, out=ts)
    ts, order = _sort_times(ts, start_ms, end_ms)
    root = root[order]
    step = step[order]
    del order
    n = len(ts)
    _release_freed_memory()

    c_task = r_task[root]
    c_entry = r_entry[root]
    inp, out, hit_limit = traffic.tokens(rng, c_task, step, c_entry, profiles)
    in_loop = None
    if loop_root >= 0:
        in_loop = np.flatnonzero(root == loop_root)
        room = traffic.model_arrays(profiles)["ctx"][c_entry[in_loop]] - out[in_loop]
        grown = p["loop_start_tokens"] + step[in_loop].astype(np.int64) * int(
            p["context_growth_tokens"]
        )
        inp[in_loop] = np.minimum(grown, room)
    calls: effects.Calls = {"ts": ts, "entry": c_entry, "inp": inp, "out": out}
    del ts, inp, out
    if is_2026:
        _taxonomy(rng, p, calls, (root, step, r_feat, r_batch, c_task), start_ms)
    else:
        zeros = np.zeros(n, dtype=np.int64)
        calls |= {"read": zeros, "write": zeros, "w1h": zeros, "reasoning": zeros}
        calls["tier"] = np.zeros(n, dtype=np.int8)
    del step
    calls["root"] = root
    calls["task"] = c_task
    calls["limit"] = hit_limit
    del root, c_task, hit_limit
    storm = None
    if "storm" in has:
        assert storm_who is not None
        t0 = start_ms + p["storm_day"] * MS_PER_DAY + round(p["storm_start_hour"] * MS_PER_HOUR)
        storm = effects.Storm(
            customer=storm_who,
            start_ms=t0,
            end_ms=min(end_ms, t0 + round(p["storm_hours"] * MS_PER_HOUR)),
            error_rate=p["storm_error_rate"],
            max_retries=p["max_retries"],
            delay_ms=round(p["retry_delay_s"] * 1000),
        )
        calls["cust"] = r_cust[calls["root"]]
        calls["req"] = np.arange(n, dtype=np.int64)
        calls["failed"] = effects.expand_retries(rng, storm, calls, (start_ms, end_ms))
        n = len(calls["ts"])
    latency, status, stop = traffic.latency_and_status(
        rng,
        calls["entry"],
        (calls["inp"], calls["out"], calls.pop("limit")),
        p["error_rate_scale"],
        profiles,
    )
    if storm is not None:  # the storm's failed attempts: errors, no output
        failed = calls["failed"]
        calls["out"][failed] = 0
        status[failed] = STATUSES.index("error")
        stop[failed] = STOP_REASONS.index("ERROR")
        np.minimum(latency, 2_000, out=latency, where=failed)
    if is_2026:  # errors and timeouts cut the output: reasoning is part of it
        np.minimum(calls["reasoning"], calls["out"], out=calls["reasoning"])

    model_names = list(dict.fromkeys(m for _, m in entries))
    entry_provider = np.array([pricing.PROVIDERS.index(pr) for pr, _ in entries], dtype=np.int8)
    entry_model = np.array([model_names.index(m) for _, m in entries], dtype=np.int8)
    catalog = effects.Catalog(
        entries=entries, provider=entry_provider, model=entry_model, model_names=model_names
    )
    cost = effects.price_calls(catalog, calls)

    # --- ground truth, measured now (before the big id columns exist)
    root = calls["root"]
    c_cust = r_cust[root].astype(cust_int)
    ts = calls["ts"]
    grid = _Grid(start_ms=start_ms, days=days, n_customers=n_c)
    arrays = _CallArrays(
        ts=ts, cust=c_cust, root=root, cost=cost, inp=calls["inp"], out=calls["out"]
    )
    measured = _measure(arrays, grid)
    measured["who"] = who
    if in_loop is not None:
        measured["loop"] = {
            "start": int(ts[in_loop].min()),
            "end": int(ts[in_loop].max()),
            "calls": len(in_loop),
            "cost": float(cost[in_loop].sum()),
            "tokens": float(calls["inp"][in_loop].sum() + calls["out"][in_loop].sum()),
        }
        del in_loop
    if scenario == "model_migration":
        measured["migration"] = _measure_migration(
            p, calls, cost, (grid, catalog), (r_entry_before, r_entry)
        )
    del r_entry, r_entry_before, arrays
    rows_2026 = []
    if has:
        calls["feature"] = r_feat[root]
        calls["cust"] = c_cust
        ctx = {
            **p,
            "_catalog": catalog,
            "_customer_ids": cust["customer_id"].to_numpy(),
            "_period_end": start_ts + pd.Timedelta(days=days),
        }
        for effect in ("cache", "creep", "price", "storm"):
            if effect not in has:
                continue
            if effect == "cache":
                window = _window(p, "regression", start_ms, end_ms)
                rows_2026.append(effects.cache_regression_row(ctx, calls, cost, window))
            elif effect == "creep":
                window = _window(p, "creep", start_ms, end_ms)
                rows_2026.append(effects.reasoning_creep_row(ctx, calls, cost, window))
            elif effect == "price":
                ctx["_price_entries"] = [
                    i for i, (_, m) in enumerate(entries) if m == p["price_model"]
                ]
                rows_2026.append(effects.price_change_row(ctx, calls, cost, price_change))
            else:
                rows_2026.append(effects.retry_storm_row(ctx, calls, cost, storm))
        del ctx
    measured["rows_2026"] = rows_2026
    _release_freed_memory()

    ts *= 1_000_000  # ms -> ns, in place
    timestamp = pd.Series(ts.view("datetime64[ns]"), copy=False).dt.tz_localize("UTC")
    del ts
    columns: dict[str, Any] = {
        "timestamp": timestamp,
        "provider": _categorical(entry_provider[calls["entry"]], pricing.PROVIDERS),
        "model": _categorical(entry_model[calls["entry"]], model_names),
        "input_tokens": calls.pop("inp"),
        "output_tokens": calls.pop("out"),
        "cost_usd": cost,
        "latency_ms": latency,
        "customer_id": _categorical(c_cust, cust["customer_id"]),
        "subscription_tier": _categorical(tier[c_cust], SUBSCRIPTION_TIERS),
        "organization_id": _categorical(cust_org[c_cust], org_names),
        "product_id": _categorical(product[c_cust], PRODUCTS),
        "region": _categorical(region[c_cust], [r[0] for r in REGIONS]),
    }
    del c_cust, r_cust
    columns["task_type"] = _categorical(calls.pop("task"), TASK_TYPES)
    del r_task
    columns["feature_id"] = _categorical(r_feat[root], feature_ids)
    columns["environment"] = _categorical(r_env[root], ENVIRONMENTS)
    columns["user_agent"] = _categorical(r_ua[root], USER_AGENTS)
    columns["status"] = _categorical(status, STATUSES)
    columns["stop_reason"] = _categorical(stop, STOP_REASONS)
    del r_feat, r_env, r_ua, status, stop
    columns["cache_read_tokens"] = calls.pop("read")
    columns["cache_write_tokens"] = calls.pop("write")
    columns["cache_write_1h_tokens"] = calls.pop("w1h")
    columns["reasoning_tokens"] = calls.pop("reasoning")
    columns["service_tier"] = _categorical(calls.pop("tier"), SERVICE_TIERS)
    req = calls.pop("req", None)
    calls.clear()
    _release_freed_memory()
    salt = rng.integers(0, 1 << 40, 4)
    offsets = fixed_offsets(n)  # one read-only offsets buffer shared by the four id columns
    # ids that need the per-request arrays first, so those can go before the others are built
    columns["session_id"] = hex_ids("sess_", r_session, int(salt[3]), root, offsets)
    del r_session
    columns["trace_id"] = hex_ids("trace_", n_roots, int(salt[2]), root, offsets)
    del root
    columns["call_id"] = hex_ids("call_", n, int(salt[0]), None, offsets)
    if req is None:
        columns["request_id"] = hex_ids("req_", n, int(salt[1]), None, offsets)
    else:  # retries share the request_id of the call they retry
        columns["request_id"] = hex_ids("req_", n, int(salt[1]), req, offsets)
    frame = pd.DataFrame(
        {c: columns.pop(c) for c in ALL_COLUMNS}, columns=list(ALL_COLUMNS), copy=False
    )

    incidents = _incidents(p, cust, measured, factors, start_ts)
    p["calls"] = n
    p["nominal_calls_per_day"] = nominal_calls_per_day * scale
    return Simulation(calls=frame, incidents=incidents, customers=cust, params=p)


#: The 2026 effects each scenario injects.
_EFFECTS: dict[str, frozenset[str]] = {
    "cache_regression": frozenset({"cache"}),
    "reasoning_creep": frozenset({"creep"}),
    "retry_storm": frozenset({"storm"}),
    "price_change": frozenset({"price"}),
    "incidents_2026": frozenset({"cache", "creep", "storm", "price"}),
}


def _effects_of(scenario: str) -> frozenset[str]:
    return _EFFECTS.get(scenario, frozenset())


def _feature_code(p: dict[str, Any], key: str) -> int:
    names = [f for f, _, _ in FEATURES]
    if p[key] not in names:
        raise ValueError(f"{key}={p[key]!r} is not a feature; known: {', '.join(names)}")
    return names.index(p[key])


def _window(p: dict[str, Any], name: str, start_ms: int, end_ms: int) -> effects.Window:
    key = "regression_feature" if name == "regression" else "creep_feature"
    code = _feature_code(p, key)
    day = p["regression_day" if name == "regression" else "creep_day"]
    return effects.Window(
        feature=code,
        feature_id=p[key],
        start_ms=start_ms + day * MS_PER_DAY,
        end_ms=end_ms,
    )


def _price_change_in_window(
    p: dict[str, Any], entries: tuple[tuple[str, str], ...], span: tuple[pd.Timestamp, int]
) -> Any:
    """The first dated price change of ``price_model`` inside the window (a row of
    ``pricing.price_changes``); ValueError naming the model, the window and the dates."""
    start, days = span
    code = _entry_code(p["price_model"], entries)
    provider, model = entries[code]
    changes = pricing.price_changes(provider, model)
    end = start + pd.Timedelta(days=days)
    inside = changes[(changes["start"] > start) & (changes["start"] < end)]
    if inside.empty:
        dates = ", ".join(f"{d:%Y-%m-%d}" for d in changes["start"]) or "none"
        raise ValueError(
            f"price_model={model!r} has no dated price change between {start:%Y-%m-%d} and "
            f"{end:%Y-%m-%d} in genai-prices (its changes: {dates}); move start or days"
        )
    return next(inside.itertuples(index=False))


def _taxonomy(
    rng: np.random.Generator,
    p: dict[str, Any],
    calls: effects.Calls,
    per_request: tuple[np.ndarray, ...],
    day0: int,
) -> None:
    """Draw the 2026 token taxonomy into ``calls`` (read, write, w1h, reasoning, tier) and
    inject the cache regression and the reasoning creep (with their counterfactual tokens).

    ``per_request`` is (root, step, request feature, request batch flag, call task); ``day0``
    the first simulated day in ms."""
    root, step, r_feat, r_batch, c_task = per_request
    c_feat = r_feat[root]
    has = _effects_of(p["scenario"])
    keys = fleet.CallKeys(task=c_task, feature=c_feat, entry=calls["entry"], step=step)
    inp, out = calls["inp"], calls["out"]
    fleet.widen_inputs(rng, keys, inp)
    reasoning = fleet.reasoning_tokens(rng, keys, out)
    if "creep" in has:
        code = _feature_code(p, "creep_feature")
        hit = np.flatnonzero((c_feat == code) & (calls["ts"] >= day0 + p["creep_day"] * MS_PER_DAY))
        calls["cf_reasoning"] = reasoning.copy()
        reasoning[hit] = np.rint(reasoning[hit] * p["creep_factor"]).astype(np.int64)
    out += reasoning
    fleet.cap_to_context(calls["entry"], inp, out)
    u = rng.random(len(inp), dtype=np.float32)
    hit_rate = fleet.feature_arrays()["hit"][c_feat]
    if "cache" in has:
        code = _feature_code(p, "regression_feature")
        moved = (c_feat == code) & (calls["ts"] >= day0 + p["regression_day"] * MS_PER_DAY)
        before = fleet.cache_tokens(keys, inp, u, hit_rate)
        calls["cf_read"], calls["cf_write"], calls["cf_w1h"] = (
            before.read,
            before.write,
            before.write_1h,
        )
        hit_rate[moved] = np.float32(p["regression_hit_rate"])
    cache = fleet.cache_tokens(keys, inp, u, hit_rate)
    calls["read"], calls["write"], calls["w1h"] = cache.read, cache.write, cache.write_1h
    calls["reasoning"] = reasoning
    calls["tier"] = r_batch[root]


def _measure(arrays: _CallArrays, grid: _Grid) -> dict[str, Any]:
    """(days x customers) totals of calls, cost and tokens, computed in chunks."""
    ts, cust, cost, inp, out = arrays.ts, arrays.cust, arrays.cost, arrays.inp, arrays.out
    start_ms, days, n_customers = grid.start_ms, grid.days, grid.n_customers
    shape = days * n_customers
    calls = np.zeros(shape)
    cost_t = np.zeros(shape)
    tokens = np.zeros(shape)
    chunk = 1 << 20
    for lo in range(0, len(ts), chunk):
        hi = min(len(ts), lo + chunk)
        idx = (ts[lo:hi] - start_ms) // MS_PER_DAY * n_customers + cust[lo:hi]
        calls += np.bincount(idx, minlength=shape)
        cost_t += np.bincount(idx, weights=cost[lo:hi], minlength=shape)
        tokens += np.bincount(idx, weights=inp[lo:hi] + out[lo:hi], minlength=shape)
    return {
        "calls": calls.reshape(days, n_customers),
        "cost": cost_t.reshape(days, n_customers),
        "tokens": tokens.reshape(days, n_customers),
    }


def _measure_migration(
    p: dict[str, Any],
    calls: effects.Calls,
    cost: np.ndarray,
    where: tuple[_Grid, effects.Catalog],
    request_entries: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """Calls moved, their cost versus the counterfactual, the share actually moved and the
    token kind whose cost moved most (the driver).

    ``request_entries`` is the catalog entry of each request before and after the migration.
    """
    grid, catalog = where
    before, after = request_entries
    root, ts = calls["root"], calls["ts"]
    moved_root = np.flatnonzero(before != after)
    moved = np.flatnonzero(np.isin(root, moved_root))
    was = before[root[moved]].astype(calls["entry"].dtype)
    actual = effects.breakdown_calls(catalog, effects.subset(calls, moved))
    counterfactual = effects.breakdown_calls(catalog, effects.subset(calls, moved, entry=was))
    delta = (actual - counterfactual).drop(columns="total").sum()
    from_codes = [i for i, (_, m) in enumerate(catalog.entries) if m == p["from_model"]]
    after_day = ts >= grid.start_ms + p["migration_day"] * MS_PER_DAY
    eligible = int((np.isin(before[root], from_codes) & after_day).sum())
    return {
        "calls": float(len(moved)),
        "saved": float(cost[moved].sum() - counterfactual["total"].sum()),
        "share": len(moved) / eligible if eligible else float("nan"),
        "driver": str(delta.abs().idxmax()) if len(moved) else "input",
    }


def _incidents(
    p: dict[str, Any],
    cust: pd.DataFrame,
    measured: dict[str, Any],
    factors: dict[str, np.ndarray],
    start: pd.Timestamp,
) -> pd.DataFrame:
    """One row per injected effect, with its size as injected and as observed in the data.

    ``measured`` holds the (day, customer) totals and ``who``, the scenario's actor.
    """
    scenario, days, who = p["scenario"], p["days"], measured["who"]

    def day_start(day: int) -> pd.Timestamp:
        return start + pd.Timedelta(days=day)

    period_end = day_start(days)
    rows: list[dict[str, Any]] = []
    if scenario == "steady_growth":
        daily = measured["calls"].sum(axis=1)
        week = min(7, max(1, days // 2))
        first, last = daily[:week].mean(), daily[-week:].mean()
        rows.append(
            dict(
                kind="growth",
                driver="calls",
                feature_id=None,
                customer_id=None,
                start=start,
                end=period_end,
                effect=p["growth_per_month"],
                effect_unit="rate growth per 30 days",
                observed_effect=last / first if first > 0 else np.nan,
                extra_calls=np.nan,
                extra_cost_usd=np.nan,
                description=(
                    f"Request rates grow {p['growth_per_month']:.0%} per 30 days and "
                    f"{int((cust['signup_day'] > 0).sum())} customers sign up during the period; "
                    "observed_effect = mean daily calls of the last week / the first week."
                ),
            )
        )
    elif scenario == "viral_spike":
        onset = p["onset_day"]
        calls = measured["calls"][:, who]
        cost = measured["cost"][:, who]
        before = calls[:onset].mean() if onset > 0 else np.nan
        after = calls[onset:].mean()
        factor = p["spike_factor"]
        rows.append(
            dict(
                kind="viral_spike",
                driver="calls",
                feature_id=None,
                customer_id=cust["customer_id"].iloc[who],
                start=day_start(onset),
                end=period_end,
                effect=factor,
                effect_unit="x daily calls",
                observed_effect=after / before if before and before > 0 else np.nan,
                extra_calls=float(calls[onset:].sum() * (1 - 1 / factor)),
                extra_cost_usd=float(cost[onset:].sum() * (1 - 1 / factor)),
                description=(
                    f"{cust['customer_id'].iloc[who]}'s usage jumps {factor:g}x overnight on day "
                    f"{onset} and stays there; extra_* = share of its later calls and cost above "
                    "its pre-spike rate."
                ),
            )
        )
    elif scenario == "seasonal":
        daily = measured["calls"].sum(axis=1)
        # each cycle measured with the other one held out
        weekend, month_end = factors["weekend"], factors["month_end"]
        wk, we = daily[~weekend & ~month_end], daily[weekend & ~month_end]
        me, rest = daily[month_end & ~weekend], daily[~month_end & ~weekend]
        rows.append(
            dict(
                kind="weekly_cycle",
                driver="calls",
                feature_id=None,
                customer_id=None,
                start=start,
                end=period_end,
                effect=p["weekend_factor"],
                effect_unit="weekend / weekday rate",
                observed_effect=we.mean() / wk.mean() if len(we) and len(wk) else np.nan,
                extra_calls=np.nan,
                extra_cost_usd=np.nan,
                description="Weekend days run at weekend_factor of a weekday's rate.",
            )
        )
        rows.append(
            dict(
                kind="monthly_cycle",
                driver="calls",
                feature_id=None,
                customer_id=None,
                start=start,
                end=period_end,
                effect=1.0 + p["month_end_boost"],
                effect_unit="month-end / other-day rate",
                observed_effect=me.mean() / rest.mean() if len(me) and len(rest) else np.nan,
                extra_calls=np.nan,
                extra_cost_usd=np.nan,
                description=(
                    f"The last {p['month_end_days']} days of each month (closing, reporting) run "
                    f"{p['month_end_boost']:.0%} above other days."
                ),
            )
        )
    elif scenario == "model_migration":
        rows.append(
            dict(
                kind="model_migration",
                driver=measured["migration"]["driver"],
                feature_id=None,
                customer_id=None,
                start=day_start(p["migration_day"]),
                end=period_end,
                effect=p["share"],
                effect_unit="share of from_model requests moved",
                observed_effect=measured["migration"]["share"],
                extra_calls=measured["migration"]["calls"],
                extra_cost_usd=measured["migration"]["saved"],
                description=(
                    f"From day {p['migration_day']}, {p['share']:.0%} of {p['from_model']} "
                    f"requests move to {p['to_model']}; extra_calls = calls moved, "
                    "extra_cost_usd = their cost minus what they would have cost (negative = saved)."
                ),
            )
        )
    elif scenario == "runaway_agent":
        loop = measured["loop"]
        normal_tokens = (measured["tokens"][:, who].sum() - loop["tokens"]) / max(days, 1)
        rows.append(
            dict(
                kind="runaway_agent",
                driver="input",
                feature_id=None,
                customer_id=cust["customer_id"].iloc[who],
                start=pd.Timestamp(loop["start"], unit="ms", tz="UTC"),
                end=pd.Timestamp(loop["end"], unit="ms", tz="UTC"),
                effect=float(loop["calls"]),
                effect_unit="calls in the loop",
                observed_effect=loop["tokens"] / normal_tokens if normal_tokens > 0 else np.nan,
                extra_calls=float(loop["calls"]),
                extra_cost_usd=loop["cost"],
                description=(
                    f"An agent of {cust['customer_id'].iloc[who]} retries in a loop every "
                    f"{p['loop_interval_s']:g} s for {p['loop_hours']:g} h on day {p['loop_day']}, "
                    f"re-sending a transcript that grows {p['context_growth_tokens']:,} tokens per "
                    f"call on {p['loop_model']}; observed_effect = loop tokens / the customer's "
                    "normal daily tokens."
                ),
            )
        )
    rows.extend(sorted(measured.get("rows_2026", []), key=lambda r: r["start"]))
    frame = pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS))
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("effect", "observed_effect", "extra_calls", "extra_cost_usd"):
        frame[col] = frame[col].astype(float)
    return frame
