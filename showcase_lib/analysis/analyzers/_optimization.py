"""FinOps "optimize": model right-sizing, prompt caching and prompt trimming, each with a $ figure.

* **Right-sizing**: for every (task type, model) pair, the cheapest catalog model whose SIMULATED
  quality (``quality_table``) on that task's complexity is within ``max_quality_drop`` points of
  the current model; the saving is the same tokens of every kind repriced with the prices passed
  in (a price table frame or a pricer, see ``analysis._prices``).
* **Caching**: inside a session, later calls re-send the context of the first one; the first
  call's prompt length (capped at each call's own) is taken as the cacheable prefix and billed as
  cache reads (at the model's cache-read price) on calls that do not use the cache yet.
* **Prompt trimming**: prompts longer than the ``long_quantile`` of their task type are trimmed to
  the ``target_quantile``.

The combined figure applies the three in that order on each call (so they never double count).

Example:
    >>> import pandas as pd
    >>> prices = pd.DataFrame({"provider": ["openai"] * 2, "model": ["gpt-4", "gpt-4o-mini"],
    ...     "input_usd_per_mtok": [30.0, 0.15], "output_usd_per_mtok": [60.0, 0.6],
    ...     "cache_read_usd_per_mtok": [30.0, 0.075]})
    >>> calls = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
    ...     "provider": ["openai"] * 2, "model": ["gpt-4"] * 2, "task_type": ["classification"] * 2,
    ...     "input_tokens": [1000, 1000], "output_tokens": [100, 100], "cost_usd": [0.036, 0.036],
    ...     "session_id": ["s1", "s2"]})
    >>> r = analyze_optimization(calls, prices)
    >>> r.right_sizing.loc[0, "candidate_model"]
    'gpt-4o-mini'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from showcase_lib.analysis._aggregations import group_quantiles
from showcase_lib.analysis._prices import (
    PRICED_COLUMNS,
    Prices,
    as_pricer,
    offered_models,
    on_model,
)

from . import _cells
from ._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    monthly_factor,
    require_columns,
    require_rows,
)
from ._keys import appearance, first_positions, id_codes, str_codes
from ._quality import SIMULATED_LABEL, quality_score, task_complexity

#: Providers whose models are offered as right-sizing candidates by default: the direct APIs
#: (a cloud reseller's copy of the same model would only add duplicate candidates).
DEFAULT_CANDIDATE_PROVIDERS: tuple[str, ...] = (
    "openai",
    "anthropic",
    "google",
    "mistral",
    "cohere",
)


@dataclass(frozen=True, slots=True)
class OptimizationConfig:
    """Settings of the optimization analyzer (``analyze("optimization", ..., config=...)``).

    Example:
        >>> OptimizationConfig(max_quality_drop=5.0).long_quantile
        0.9
    """

    #: (provider, model) pairs right-sizing may propose; None: every non-retired row of the
    #: price table from ``DEFAULT_CANDIDATE_PROVIDERS`` (required when prices are a pricer).
    candidates: tuple[tuple[str, str], ...] | None = None
    #: Simulated quality points a move may cost: 3 points is below the spread of one call's
    #: score (``CALL_SCORE_SD``), so a reader would not notice it on a single answer.
    max_quality_drop: float = 3.0
    #: Prompts above this quantile of their task type count as bloated ...
    long_quantile: float = 0.9
    #: ... and are trimmed to this quantile (the median prompt of the task still does the job).
    target_quantile: float = 0.5
    #: task_type -> complexity overrides of the built-in table (see ``task_complexity``).
    complexity_map: Mapping[str, str] | None = None


def _candidates(prices: Prices, config: OptimizationConfig) -> list[tuple[str, str]]:
    if config.candidates is not None:
        return [(str(p), str(m)) for p, m in config.candidates]
    if not isinstance(prices, pd.DataFrame):
        raise ValueError(
            "analyze_optimization: prices is a pricer, so OptimizationConfig(candidates=...) "
            "must name the models right-sizing may propose (a price table lists them itself)"
        )
    return offered_models(prices, DEFAULT_CANDIDATE_PROVIDERS)


_PLAN_COLUMNS = [
    "task_type",
    "complexity",
    "provider",
    "model",
    "calls",
    "current_cost_usd",
    "candidate_provider",
    "candidate_model",
    "candidate_cost_usd",
    "saving_usd",
    "saving_pct",
    "quality_current",
    "quality_candidate",
    "quality_drop",
]


def _groups(calls: pd.DataFrame, key: list[str]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Per call, its (task_type, provider, model) group in order of first appearance, and the
    groups' names as text (``MultiIndex.from_frame(calls[key].astype(str)).factorize()``)."""
    combined = np.zeros(len(calls), dtype=np.int64)
    labels = []
    for col in key:
        codes, lab = str_codes(calls[col])
        combined = combined * len(lab) + codes
        labels.append(lab)
    space = int(np.prod([len(lab) for lab in labels]))
    group, uniq = appearance(combined, space)
    names, rest = [], uniq.astype(np.int64)
    for lab in reversed(labels):
        names.append(lab[rest % len(lab)])
        rest = rest // len(lab)
    return group.astype(np.int64), list(zip(*reversed(names), strict=True))


class _Repricer:
    """Cost per group with each group's calls on one model: on a price table by cells (a few
    hundred rows per model), with a pricer call by call."""

    def __init__(
        self,
        calls: pd.DataFrame,
        price: Callable[[pd.DataFrame], pd.Series],
        table: pd.DataFrame | None,
        group: np.ndarray,
        n_groups: int,
    ) -> None:
        self.price, self.table, self.group, self.n = price, table, group, n_groups
        self.calls = calls
        self.cells = None
        if table is not None:
            self.tokens = _tokens(calls)  # float copies of the token columns, made once
            self.cells = _cells.cells(group, n_groups, self.tokens, table, _tier(calls))

    def costs(self, models: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Cost per group for each (provider per group, model per group) choice."""
        if self.cells is not None:
            return _cells.group_costs(self.cells, self.table, models)
        return [
            np.bincount(
                self.group,
                weights=self.price(on_model(self.calls, p[self.group], m[self.group])).to_numpy(),
                minlength=self.n,
            )
            for p, m in models
        ]

    def of(self, models: tuple[np.ndarray, np.ndarray], **changes: np.ndarray) -> float:
        """Total cost of the calls with ``changes`` to their tokens, group g on models[.][g]."""
        provider, model = models
        if self.table is not None:
            c = self.cells
            if changes:
                tokens = {**self.tokens, **changes}
                c = _cells.cells(self.group, self.n, tokens, self.table, _tier(self.calls))
            return float(_cells.group_cost(c, self.table, provider, model).sum())
        view = on_model(self.calls, provider[self.group], model[self.group])
        return float(self.price(view.assign(**changes)).sum())


def _tier(calls: pd.DataFrame) -> pd.Series | None:
    return calls.get("service_tier")


def _tokens(calls: pd.DataFrame) -> dict[str, np.ndarray]:
    """The token columns a price table reads, per call."""
    return {
        c: calls[c].to_numpy(dtype=float)
        for c in PRICED_COLUMNS
        if c in calls and c.endswith("_tokens")
    }


def _right_sizing(
    calls: pd.DataFrame,
    price: Callable[[pd.DataFrame], pd.Series],
    cands: list[tuple[str, str]],
    config: OptimizationConfig,
    table: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, _Repricer, list[tuple[str, ...]]]:
    """Cheapest acceptable model per (task_type, provider, model), with saving and quality risk.

    One row per current (task_type, provider, model): calls, ``current_cost_usd`` (the calls
    priced on their own model), ``candidate_*`` (the cheapest candidate within
    ``max_quality_drop`` simulated points, or the current model when none is cheaper; each
    candidate prices the same calls, every token kind, on its model), ``saving_usd`` and
    ``quality_drop`` (simulated points lost). Largest saving first. Also returns the repricer
    (each call's group, the cells) and the groups' names (the plan's rows before sorting).
    """
    max_quality_drop, complexity_map = config.max_quality_drop, config.complexity_map
    group, names = _groups(calls, ["task_type", "provider", "model"])
    reprice = _Repricer(calls, price, table, group, len(names))

    q_group = {
        g: quality_score(str(model), task_complexity(str(task), complexity_map))
        for g, (task, _, model) in enumerate(names)
    }
    # price only the candidates acceptable for at least one group
    cands = [
        cand
        for cand in cands
        if any(
            quality_score(cand[1], task_complexity(str(task), complexity_map))
            >= q_group[g] - max_quality_drop
            for g, (task, _, _) in enumerate(names)
        )
    ]
    own_p = np.asarray([p for _, p, _ in names], dtype=object)
    own_m = np.asarray([m for _, _, m in names], dtype=object)
    ones = np.ones(len(names), dtype=object)
    choices = [(own_p, own_m), *((ones * p, ones * m) for p, m in cands)]
    current_usd, *per_cand = reprice.costs(choices)
    cand_usd = dict(zip(cands, per_cand, strict=True))
    counts = np.bincount(group, minlength=len(names))
    rows = []
    for g, (task, prov, model) in enumerate(names):  # one row per (task, model): a few dozen
        n = counts[g]
        cx = task_complexity(str(task), complexity_map)
        q_now = quality_score(str(model), cx)
        now = float(current_usd[g])
        best, best_cost, best_q = (str(prov), str(model)), now, q_now
        for cand in cands:
            q = quality_score(cand[1], cx)
            c = float(cand_usd[cand][g])
            if q >= q_now - max_quality_drop and c < best_cost - 1e-12:
                best, best_cost, best_q = cand, c, q
        rows.append(
            (
                str(task),
                cx,
                str(prov),
                str(model),
                int(n),
                now,
                best[0],
                best[1],
                best_cost,
                now - best_cost,
                (now - best_cost) / now if now else 0.0,
                q_now,
                best_q,
                q_now - best_q,
            )
        )
    out = pd.DataFrame(rows, columns=_PLAN_COLUMNS)
    return out.sort_values("saving_usd", ascending=False).reset_index(drop=True), reprice, names


def _column(view: pd.DataFrame, name: str) -> np.ndarray:
    return view[name].to_numpy(dtype=float) if name in view else np.zeros(len(view))


def _cacheable_input_tokens(calls: pd.DataFrame) -> np.ndarray:
    """Per call, input tokens a prompt cache could serve: the session's first prompt length
    (capped at the call's own) for every call after the first in its session; 0 otherwise.

    Example:
        >>> df = pd.DataFrame({"session_id": ["s", "s", "t"], "input_tokens": [500, 800, 300],
        ...     "timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:01",
        ...                                  "2026-01-01 00:02"], utc=True)})
        >>> _cacheable_input_tokens(df).tolist()
        [0.0, 500.0, 0.0]
    """
    if "session_id" not in calls:
        return np.zeros(len(calls))
    ts = pd.to_datetime(calls["timestamp"], utc=True) if "timestamp" in calls else None
    session, n_sessions = id_codes(calls["session_id"])  # -1: no session
    if ts is None or ts.is_monotonic_increasing:
        order = None  # already in time order (the record usually is)
    else:
        order = np.argsort(ts.to_numpy(dtype="datetime64[ns]"), kind="stable")
        session = session[order]
        known = session >= 0  # renumber in order of appearance in time
        session[known] = appearance(session[known], n_sessions)[0]
    tin = calls["input_tokens"].to_numpy(dtype=float)
    tin = tin if order is None else tin[order]
    first = first_positions(session)  # the first call of each session, sessions in order
    if not len(first):
        return np.zeros(len(calls))
    in_session = session >= 0
    code = np.where(in_session, session, 0)
    first_tin = tin[first][code]
    np.minimum(first_tin, tin, out=first_tin)
    first_tin[first] = 0.0  # the first call of a session has nothing cached yet
    first_tin[~in_session] = 0.0
    sorted_cache = np.nan_to_num(first_tin, copy=False)
    if order is None:
        return sorted_cache
    out = np.empty(len(calls))
    out[order] = sorted_cache
    return out


def _trimmable_input_tokens(
    calls: pd.DataFrame, *, long_quantile: float = 0.9, target_quantile: float = 0.5
) -> np.ndarray:
    """Per call, input tokens removed by trimming prompts longer than the task type's
    ``long_quantile`` down to its ``target_quantile``.

    Example:
        >>> df = pd.DataFrame({"task_type": ["chat"] * 5, "input_tokens": [100, 100, 100, 100, 900]})
        >>> _trimmable_input_tokens(df, long_quantile=0.75, target_quantile=0.5).tolist()
        [0.0, 0.0, 0.0, 0.0, 800.0]
    """
    tokens = calls["input_tokens"].to_numpy()
    x = tokens.astype(float)
    codes, labels = str_codes(calls["task_type"])
    qs = [long_quantile, target_quantile]
    if np.isnan(x).any():  # missing counts: pandas' group-by skips them
        q = pd.Series(x).groupby(codes).quantile(qs).unstack().to_numpy()
    else:  # one quantile per task type, by one sort of (task type, tokens)
        q = group_quantiles(codes, tokens, len(labels), qs)
    long, target = q[codes, 0], q[codes, 1]
    return np.where(x > long, x - target, 0.0)


@dataclass
class OptimizationResult(AnalysisResult):
    """Right-sizing table, per-lever savings and the combined plan."""

    right_sizing: pd.DataFrame = field(default_factory=pd.DataFrame)
    opportunities: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyze_optimization(
    calls: pd.DataFrame,
    prices: Prices,
    *,
    config: OptimizationConfig | None = None,
) -> OptimizationResult:
    """Right-size models, estimate caching and trimming savings, combine them without overlap.

    All savings are monthly (the period scaled to 30 days) and computed by pricing modified
    copies of the calls with ``prices``: a price table frame
    (``showcase_lib.pricing.price_table()``, or your own sheet with ``provider, model,
    input_usd_per_mtok, output_usd_per_mtok`` and the cache and batch columns the calls need),
    or a pricer (calls -> cost per call, e.g. ``lambda df: pricing.cost_breakdown(df)["total"]``;
    then ``config.candidates`` names the right-sizing candidates).

    Example:
        >>> prices = pd.DataFrame({"provider": ["openai"], "model": ["gpt-4o"],
        ...     "input_usd_per_mtok": [2.5], "output_usd_per_mtok": [10.0],
        ...     "cache_read_usd_per_mtok": [1.25]})
        >>> calls = pd.DataFrame({
        ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-01"], utc=True),
        ...     "provider": ["openai"] * 2, "model": ["gpt-4o"] * 2, "task_type": ["chat"] * 2,
        ...     "input_tokens": [1000, 1000], "output_tokens": [0, 0], "cost_usd": [0.0025] * 2,
        ...     "session_id": ["s", "s"]})
        >>> r = analyze_optimization(calls, prices, config=OptimizationConfig(candidates=()))
        >>> round(r.opportunities.set_index("lever").loc["prompt caching", "saving_usd"], 6)
        np.float64(0.00125)
    """
    who = "analyze_optimization"
    require_columns(
        calls,
        [
            "timestamp",
            "provider",
            "model",
            "task_type",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ],
        who=who,
    )
    require_rows(calls, who=who)
    price = as_pricer(prices, who=who)
    config = config or OptimizationConfig()
    long_quantile, target_quantile = config.long_quantile, config.target_quantile
    factor = monthly_factor(calls)
    table = prices if isinstance(prices, pd.DataFrame) else None
    plan, reprice, names = _right_sizing(calls, price, _candidates(prices, config), config, table)

    # per group, the model the plan moves it to
    chosen = {
        (r.task_type, r.provider, r.model): (r.candidate_provider, r.candidate_model)
        for r in plan.itertuples()
    }
    own = (
        np.asarray([n[1] for n in names], dtype=object),
        np.asarray([n[2] for n in names], dtype=object),
    )
    new = (
        np.asarray([chosen[n][0] for n in names], dtype=object),
        np.asarray([chosen[n][1] for n in names], dtype=object),
    )

    tin = calls["input_tokens"].to_numpy(dtype=float)
    read = _column(calls, "cache_read_tokens")
    in_cache = read + _column(calls, "cache_write_tokens")
    # trimming removes uncached prompt tokens; the cache serves calls that do not use it yet
    trimmed = np.minimum(
        _trimmable_input_tokens(
            calls, long_quantile=long_quantile, target_quantile=target_quantile
        ),
        tin - in_cache,
    )
    cached = np.where(in_cache > 0, 0.0, _cacheable_input_tokens(calls))
    eff_in = tin - trimmed
    total = reprice
    current = total.of(own)
    # each lever alone, against today's models
    rs_only = total.of(new)
    cache_only = total.of(own, cache_read_tokens=read + cached)
    trim_only = total.of(own, input_tokens=eff_in)
    # combined: new model, trimmed prompt, cache on what is left
    combined = total.of(
        new, input_tokens=eff_in, cache_read_tokens=read + np.minimum(cached, eff_in)
    )

    base = current
    levers = [
        (
            "model right-sizing",
            base - rs_only,
            f"max {plan['quality_drop'].max() if len(plan) else 0:.0f} simulated quality points",
            "route tasks to the cheapest model within the quality guardrail",
        ),
        (
            "prompt caching",
            base - cache_only,
            "none on answers (same prompt, cheaper input)",
            "cache the shared session prefix (system prompt and context)",
        ),
        (
            "prompt trimming",
            base - trim_only,
            "possible loss of context on the longest prompts",
            f"trim prompts above the task's p{long_quantile * 100:.0f} to its "
            f"p{target_quantile * 100:.0f}",
        ),
        (
            "combined (no double counting)",
            base - combined,
            "as above",
            "all three, applied in sequence per call",
        ),
    ]
    opp = pd.DataFrame(levers, columns=["lever", "saving_usd", "risk", "action"])
    opp["monthly_saving_usd"] = opp["saving_usd"] * factor
    opp["share_of_spend"] = opp["saving_usd"] / base if base else 0.0
    plan["monthly_saving_usd"] = plan["saving_usd"] * factor

    monthly_now = base * factor
    comb = opp.iloc[-1]
    top = plan.iloc[0] if len(plan) else None
    headline = [
        Metric("Monthly AI spend (repriced)", monthly_now, "usd"),
        Metric("Monthly saving, combined", float(comb["monthly_saving_usd"]), "usd"),
        Metric("Saving as share of spend", float(comb["share_of_spend"]), "pct"),
        *[
            Metric(f"Monthly saving, {r.lever}", float(r.monthly_saving_usd), "usd")
            for r in opp.iloc[:-1].itertuples()
        ],
    ]
    findings = [
        f"{r.lever}: ${r.monthly_saving_usd:,.2f}/month ({r.share_of_spend:.1%} of "
        f"spend); risk: {r.risk}."
        for r in opp.itertuples()
    ]
    if top is not None and top["saving_usd"] > 0:
        findings.insert(
            0,
            f"Largest single move: {top['task_type']} from {top['model']} to "
            f"{top['candidate_model']} saves ${top['monthly_saving_usd']:,.2f}/month "
            f"for {top['quality_drop']:.0f} points of {SIMULATED_LABEL}.",
        )
    comparison = [
        (
            "Monthly AI spend",
            monthly_now,
            monthly_now - float(comb["monthly_saving_usd"]),
            "usd",
        ),
        ("Known savings levers", 0.0, float((opp.iloc[:-1]["saving_usd"] > 0).sum()), "count"),
        (
            "Tasks on an oversized model",
            "unknown",
            float((plan["saving_usd"] > 0).sum()),
            "count",
        ),
    ]
    value = ReveniumValue(
        metadata=(
            "task_type",
            "model",
            "provider",
            "input_tokens",
            "output_tokens",
            "session_id",
            "feature_id",
        ),
        enables="savings per task type and model, computed from the tokens each call actually "
        "used, and which sessions re-send the same context",
        without="guess from the invoice which workloads could move, run a separate logging "
        "project to learn prompt lengths, and size savings from list prices",
    )
    story = Story(
        problem=f"AI spend runs at ${monthly_now:,.0f}/month and every task uses the model it "
        "started with; nobody knows which tasks pay for quality they do not need.",
        solution="Per-call task type, model, token counts and session let us reprice each "
        "workload on cheaper models within a quality guardrail, and measure how much "
        "context is re-sent (cacheable) or bloated (trimmable).",
        steps=(
            Step(
                "Tag the task",
                "Send task_type and session_id with each call.",
                "tracker.track(..., task_type='classification', session_id=session)",
            ),
            Step(
                "Find the moves",
                "Run the analyzer with your quality guardrail.",
                "result = analyze('optimization', calls, prices=price_table(),\n"
                "                  config=OptimizationConfig(max_quality_drop=3.0))\n"
                "result.right_sizing.head()",
            ),
            Step(
                "A/B test before switching",
                "Confirm the quality on live traffic (notebook 11) and route by task type.",
                "MODEL_BY_TASK = dict(zip(plan.task_type, plan.candidate_model))",
            ),
        ),
    )
    return build_result(
        OptimizationResult,
        name="optimization",
        title="Cost optimization opportunities",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"opportunities": opp, "right_sizing": plan},
        revenium_value=value,
        story=story,
        parameters={
            "max_quality_drop": config.max_quality_drop,
            "long_quantile": long_quantile,
            "target_quantile": target_quantile,
            "quality": SIMULATED_LABEL,
        },
    )
