"""``simulate``: generate a seeded, vectorised day-by-day log of AI calls for one scenario.

How it works (no per-call Python loop anywhere):

1. draw the customers (``customers.make_customers``);
2. expected requests per (day, customer) = customer rate x weekly/monthly/growth factors x the
   scenario's multiplier; draw Poisson counts and expand them into *requests* (roots);
3. give each request an hour (regional rhythm), a feature and task, a model (by task and tier),
   and a number of calls (agent and RAG requests chain several calls in one trace);
4. expand requests into calls spaced a few seconds apart, sort once by time;
5. draw tokens, latency, status and stop reason per call; price with ``pricing.cost_usd``;
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

from . import _traffic as traffic
from ._customers import FEATURES, PRODUCTS, REGIONS, TASK_TYPES, USER_AGENTS, make_customers
from ._ids import fixed_offsets, hex_ids
from ._ids import release_freed_memory as _release_freed_memory
from ._scenarios import day_factors, resolve_params

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
    "customer_id",
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


def _small_codes(codes: np.ndarray, n_categories: int) -> np.ndarray:
    dtype = np.int8 if n_categories < 127 else np.int16 if n_categories < 32_767 else np.int32
    return codes.astype(dtype, copy=False)


def _categorical(codes: np.ndarray, categories: Any) -> pd.Categorical:
    cats = pd.Index(list(categories))
    return pd.Categorical.from_codes(
        _small_codes(codes, len(cats)), dtype=pd.CategoricalDtype(cats), validate=False
    )


def _entry_code(model: str, prefer_provider: str | None = None) -> int:
    entries = traffic.catalog_entries()
    hits = [i for i, (_, m) in enumerate(entries) if m == model]
    if not hits:
        known = sorted({m for _, m in entries})
        raise ValueError(f"model={model!r} is not in the catalog; known: {', '.join(known)}")
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


def _sort_times(ts: np.ndarray, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted times and the stable sorting permutation (ties keep generation order).

    Packs (time, position) into one int64 and sorts values, which numpy does several times
    faster than ``argsort``; falls back to a stable argsort when the two don't fit in 63 bits.
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
    start: str = "2026-01-01",
    **params: Any,
) -> Simulation:
    """Simulate ``days`` of AI calls from ``customers`` customers under one scenario.

    Scenarios: ``steady_growth``, ``viral_spike`` (spike_factor, onset_day, spike_customer),
    ``seasonal`` (weekend_factor, month_end_boost), ``model_migration`` (share, from_model,
    to_model, migration_day), ``runaway_agent`` (runaway_customer, loop_day, loop_start_hour,
    loop_hours, loop_interval_s, loop_model, loop_start_tokens, context_growth_tokens).
    Common knobs: ``volume`` or ``calls_per_day`` (size), growth_per_month, weekend_factor,
    error_rate_scale. Same arguments and seed -> identical frames.

    Example:
        >>> sim = simulate("model_migration", days=8, customers=30, seed=3, share=1.0)
        >>> after = sim.calls[sim.calls.timestamp >= "2026-01-05"]
        >>> int((after.model == "gpt-4").sum())
        0
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


@dataclass(frozen=True, slots=True)
class _Entries:
    """The catalog entries the traffic draws from, and their provider and model codes."""

    entries: tuple[tuple[str, str], ...]
    provider: np.ndarray
    model: np.ndarray
    model_names: list[str]


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
    if scenario == "viral_spike":
        who = _pick_customer(
            rng, cust, p["spike_customer"], (cust["archetype"] == "power").to_numpy()
        )
        signup[who] = 0
    elif scenario == "runaway_agent":
        has_agent = np.isin(cust["product_id"].to_numpy(), ["dev_copilot", "data_insights"])
        who = _pick_customer(rng, cust, p["runaway_customer"], has_agent)
        signup[who] = 0
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
    m_prob, m_alias = traffic.model_tables()
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
        r_entry = np.append(r_entry, np.int8(_entry_code(p["loop_model"])))
        r_env = np.append(r_env, np.int8(0))
        r_ua = np.append(r_ua, primary_ua[who])
        user = np.append(user, np.int32(0))
        r_k = np.append(r_k, np.int32(n_loop))
        r_gap = np.append(r_gap, np.int32(round(p["loop_interval_s"] * 1000)))
        n_roots += 1

    entries = traffic.catalog_entries()
    r_entry_before = r_entry
    if scenario == "model_migration":
        _entry_code(p["from_model"])  # validates the name
        migrate_from = np.array([m == p["from_model"] for _, m in entries], dtype=bool)
        to_for_entry = np.array(
            [_entry_code(p["to_model"], prov) for prov, _ in entries], dtype=np.int8
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
    inp, out, hit_limit = traffic.tokens(rng, c_task, step, c_entry)
    in_loop = None
    if loop_root >= 0:
        in_loop = np.flatnonzero(root == loop_root)
        room = traffic.model_arrays()["ctx"][c_entry[in_loop]] - out[in_loop]
        grown = p["loop_start_tokens"] + step[in_loop].astype(np.int64) * int(
            p["context_growth_tokens"]
        )
        inp[in_loop] = np.minimum(grown, room)
    del step
    latency, status, stop = traffic.latency_and_status(
        rng, c_entry, (inp, out, hit_limit), p["error_rate_scale"]
    )
    del hit_limit

    model_names = list(dict.fromkeys(m for _, m in entries))
    entry_provider = np.array([pricing.PROVIDERS.index(pr) for pr, _ in entries], dtype=np.int8)
    entry_model = np.array([model_names.index(m) for _, m in entries], dtype=np.int8)
    provider_cat = _categorical(entry_provider[c_entry], pricing.PROVIDERS)
    model_cat = _categorical(entry_model[c_entry], model_names)
    cost = pricing.cost_usd(
        {"provider": provider_cat, "model": model_cat, "input_tokens": inp, "output_tokens": out}
    ).to_numpy()

    # --- ground truth, measured now (before the big id columns exist)
    c_cust = r_cust[root].astype(cust_int)
    grid = _Grid(start_ms=start_ms, days=days, n_customers=n_c)
    arrays = _CallArrays(ts=ts, cust=c_cust, root=root, cost=cost, inp=inp, out=out)
    measured = _measure(arrays, grid)
    measured["who"] = who
    if in_loop is not None:
        measured["loop"] = {
            "start": int(ts[in_loop].min()),
            "end": int(ts[in_loop].max()),
            "calls": len(in_loop),
            "cost": float(cost[in_loop].sum()),
            "tokens": float(inp[in_loop].sum() + out[in_loop].sum()),
        }
        del in_loop
    if scenario == "model_migration":
        catalog = _Entries(
            entries=entries, provider=entry_provider, model=entry_model, model_names=model_names
        )
        measured["migration"] = _measure_migration(
            p, arrays, grid, catalog, (r_entry_before, r_entry)
        )
    del r_entry, r_entry_before, c_entry, arrays
    _release_freed_memory()

    ts *= 1_000_000  # ms -> ns, in place
    timestamp = pd.Series(ts.view("datetime64[ns]"), copy=False).dt.tz_localize("UTC")
    del ts
    columns: dict[str, Any] = {
        "timestamp": timestamp,
        "provider": provider_cat,
        "model": model_cat,
        "input_tokens": inp,
        "output_tokens": out,
        "cost_usd": cost,
        "latency_ms": latency,
        "customer_id": _categorical(c_cust, cust["customer_id"]),
        "subscription_tier": _categorical(tier[c_cust], SUBSCRIPTION_TIERS),
        "organization_id": _categorical(cust_org[c_cust], org_names),
        "product_id": _categorical(product[c_cust], PRODUCTS),
        "region": _categorical(region[c_cust], [r[0] for r in REGIONS]),
    }
    del c_cust, r_cust
    columns["task_type"] = _categorical(c_task, TASK_TYPES)
    del c_task, r_task
    columns["feature_id"] = _categorical(r_feat[root], [f for f, _, _ in FEATURES])
    columns["environment"] = _categorical(r_env[root], ENVIRONMENTS)
    columns["user_agent"] = _categorical(r_ua[root], USER_AGENTS)
    columns["status"] = _categorical(status, STATUSES)
    columns["stop_reason"] = _categorical(stop, STOP_REASONS)
    del r_feat, r_env, r_ua, status, stop
    _release_freed_memory()
    salt = rng.integers(0, 1 << 40, 4)
    offsets = fixed_offsets(n)  # one read-only offsets buffer shared by the four id columns
    # ids that need the per-request arrays first, so those can go before the others are built
    columns["session_id"] = hex_ids("sess_", r_session, int(salt[3]), root, offsets)
    del r_session
    columns["trace_id"] = hex_ids("trace_", n_roots, int(salt[2]), root, offsets)
    del root
    columns["call_id"] = hex_ids("call_", n, int(salt[0]), None, offsets)
    columns["request_id"] = hex_ids("req_", n, int(salt[1]), None, offsets)
    columns["cache_read_tokens"] = np.zeros(n, dtype=np.int64)
    columns["cache_write_tokens"] = np.zeros(n, dtype=np.int64)
    columns["cache_write_1h_tokens"] = np.zeros(n, dtype=np.int64)
    columns["reasoning_tokens"] = np.zeros(n, dtype=np.int64)
    columns["service_tier"] = _categorical(np.zeros(n, dtype=np.int8), SERVICE_TIERS)
    calls = pd.DataFrame(
        {c: columns.pop(c) for c in ALL_COLUMNS}, columns=list(ALL_COLUMNS), copy=False
    )

    incidents = _incidents(p, cust, measured, factors, start_ts)
    p["calls"] = n
    p["nominal_calls_per_day"] = nominal_calls_per_day * scale
    return Simulation(calls=calls, incidents=incidents, customers=cust, params=p)


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
    arrays: _CallArrays,
    grid: _Grid,
    catalog: _Entries,
    request_entries: tuple[np.ndarray, np.ndarray],
) -> dict[str, float]:
    """Calls moved, their cost versus the counterfactual, and the share actually moved.

    ``request_entries`` is the catalog entry of each request before and after the migration.
    """
    before, after = request_entries
    root, ts, cost, inp, out = arrays.root, arrays.ts, arrays.cost, arrays.inp, arrays.out
    start_ms, entries = grid.start_ms, catalog.entries
    entry_provider, entry_model, model_names = catalog.provider, catalog.model, catalog.model_names
    moved_root = np.flatnonzero(before != after)
    moved = np.flatnonzero(np.isin(root, moved_root))
    was = before[root[moved]]
    counterfactual = pricing.cost_usd(
        {
            "provider": _categorical(entry_provider[was], pricing.PROVIDERS),
            "model": _categorical(entry_model[was], model_names),
            "input_tokens": inp[moved],
            "output_tokens": out[moved],
        }
    ).sum()
    from_codes = [i for i, (_, m) in enumerate(entries) if m == p["from_model"]]
    after_day = ts >= start_ms + p["migration_day"] * MS_PER_DAY
    eligible = int((np.isin(before[root], from_codes) & after_day).sum())
    return {
        "calls": float(len(moved)),
        "saved": float(cost[moved].sum() - counterfactual),
        "share": len(moved) / eligible if eligible else float("nan"),
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
    frame = pd.DataFrame(rows, columns=list(INCIDENT_COLUMNS))
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("effect", "observed_effect", "extra_calls", "extra_cost_usd"):
        frame[col] = frame[col].astype(float)
    return frame
