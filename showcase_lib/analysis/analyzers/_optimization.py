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
    ) -> None:
        group, self.names = _groups(calls, ["task_type", "provider", "model"])
        self.price, self.table, self.group, self.n = price, table, group, len(self.names)
        self.counts = np.bincount(group, minlength=self.n)
        self.calls = calls
        self.cells = None
        if table is not None:
            self.tokens = _tokens(calls)  # float copies of the token columns, made once
            self.cells = _cells.cells(group, self.n, self.tokens, table, _tier(calls))

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


#: Token columns a price table bills (``_prices.table_cost`` reads these, not the reasoning).
_BILLED = tuple(c for c in PRICED_COLUMNS if c.endswith("_tokens") and c != "reasoning_tokens")
#: Calls read to learn the order the groups first appear in (a fleet's few dozen (task,
#: model) groups all show up long before); the rest is searched only for the groups missing.
_HEAD = 1 << 16
#: Prompt lengths up to this many tokens are counted one bin each to find the trimming
#: quantiles (9 task types x 65,537 bins: 5 MB); a quantile that falls above it is sorted.
_HISTOGRAM_TOKENS = 1 << 16
#: Calls binned per pass (their 8 MB of bin numbers stay in cache; adding each pass's counts
#: costs a tenth of binning them).
_HISTOGRAM_SLICE = 1 << 20
#: Calls compared per pass with their task's threshold (the looked-up thresholds stay in cache).
_SLICE = 1 << 16


def _integers(calls: pd.DataFrame, name: str) -> bool:
    dtype = calls[name].dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "iu"


class _CellPricer:
    """The calls counted and summed once per raw cell (task type, provider, model, service
    tier and long-context bracket, see ``_cells.raw_key``); every lever is priced from those
    sums and the few calls it changes. Token sums of integers are exact in any order, so the
    cells, their means and their costs are the ones :class:`_Repricer` builds call by call.
    """

    @classmethod
    def build(cls, calls: pd.DataFrame, table: pd.DataFrame) -> _CellPricer | None:
        """The pricer, or None when it does not apply (token counts that are not all
        integers, a negative prompt, or too many cells): then :class:`_Repricer`."""
        billed = [c for c in _BILLED if c in calls]
        if not all(_integers(calls, c) for c in billed):
            return None
        tin = calls["input_tokens"].to_numpy(dtype=np.int64)
        if tin.min() < 0:
            return None
        columns = [calls["task_type"], calls["provider"], calls["model"]]
        tier = _tier(calls)
        tokens = {c: calls[c].to_numpy(dtype=np.int64) for c in billed}
        tiers = [tier] if tier is not None else []
        raw = _cells.raw_key([*columns, *tiers], tin, table, tokens)
        return cls(table, raw, tokens) if raw is not None else None

    def __init__(
        self, table: pd.DataFrame, raw: _cells.RawKey, tokens: dict[str, np.ndarray]
    ) -> None:
        self.table, self.raw, self.tokens = table, raw, tokens
        space, key = raw.space, raw.key
        self.count, self.sums = raw.count, raw.sums
        # each stem (the cell without its bracket): its group and tier
        n_br = raw.sizes[-1]
        stems = np.flatnonzero(self.count.reshape(-1, n_br).sum(axis=1))
        text = raw.decode(stems * n_br)[:-1]
        triples = list(zip(*(t.tolist() for t in text[:3]), strict=True))
        found: dict[tuple[str, ...], int] = {}
        seen = np.asarray([found.setdefault(t, len(found)) for t in triples], dtype=np.intp)
        stem_group = np.zeros(space // n_br, dtype=np.intp)
        stem_group[stems] = seen
        first = _first_rows(key, np.repeat(stem_group, n_br), len(found))
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order))
        self.stem_group = rank[stem_group]
        names = list(found)
        self.names = [names[i] for i in order]
        self.tier = None
        if len(text) > 3:
            labels, codes = np.unique(text[3].astype(str), return_inverse=True)
            self.stem_tier = np.zeros(space // n_br, dtype=np.intp)
            self.stem_tier[stems] = codes.reshape(-1)
            self.tier = labels.astype(object)
        self.base = self._cells(self.count, self.sums)
        self.counts = np.bincount(self.base.group, weights=self.base.count, minlength=len(names))
        self.counts = self.counts.astype(np.int64)

    def _cells(self, count: np.ndarray, sums: dict[str, np.ndarray]) -> _cells.Cells:
        used = np.flatnonzero(count)
        n_br = self.raw.sizes[-1]
        stem = used // n_br
        tier = None if self.tier is None else (self.stem_tier[stem], self.tier)
        picked = {"count": count[used].astype(float), **{k: v[used] for k, v in sums.items()}}
        return _cells.assemble(self.stem_group[stem], len(self.names), tier, used % n_br, picked)

    def costs(self, models: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Cost per group for each (provider per group, model per group) choice."""
        return _cells.group_costs(self.base, self.table, models)

    def _moved(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Positions where a prompt ``before`` or ``after`` trimming is above the lowest
        long-context threshold (only those can change bracket)."""
        if not len(self.raw.thresholds):
            return np.zeros(0, dtype=np.intp)
        low = self.raw.thresholds[0]
        return np.flatnonzero((before > low) | (after > low))

    def _cost(self, c: _cells.Cells, models: tuple[np.ndarray, np.ndarray]) -> float:
        return float(_cells.group_cost(c, self.table, *models).sum())

    def levers(
        self,
        calls: pd.DataFrame,
        own: tuple[np.ndarray, np.ndarray],
        new: tuple[np.ndarray, np.ndarray],
        config: OptimizationConfig,
    ) -> tuple[float, float, float, float, float]:
        """Cost today, with right-sizing alone, caching alone, trimming alone and all three."""
        key, space, tok = self.raw.key, self.raw.space, self.tokens
        tin = tok["input_tokens"]
        read_sum = self.sums.get("cache_read_tokens", np.zeros(space))
        uncached, over = _cache_scan(tok)
        rows, trimmed, trims = _trims(calls, tok, over, config)
        c_rows, cached = _cache_rows(calls, tin, uncached)
        eff = tin[rows] - trimmed
        # calls whose trimmed prompt falls below a long-context threshold change cells
        moved = self._moved(tin[rows], eff)
        shift = np.zeros(len(rows), dtype=np.intp)
        shift[moved] = _cells.brackets(self.raw.thresholds, eff[moved])
        shift[moved] -= _cells.brackets(self.raw.thresholds, tin[rows[moved]])
        moved = moved[shift[moved] != 0]
        m_rows, k0 = rows[moved], key[rows[moved]]
        k1 = k0 + shift[moved]

        def move(sums: np.ndarray, values: np.ndarray | None) -> np.ndarray:
            return sums + np.bincount(k1, values, space) - np.bincount(k0, values, space)

        served = np.bincount(key[c_rows], cached, space)
        cache = {**self.sums, "cache_read_tokens": read_sum + served}
        trim = {k: move(v, tok[k][m_rows]) for k, v in self.sums.items() if k != "input_tokens"}
        trim["input_tokens"] = move(
            self.sums["input_tokens"] - np.bincount(key[rows], trimmed, space), eff[moved]
        )
        trim_count = move(self.count, None)
        # combined: on the calls trimming also changes, the cache serves what trimming left,
        # in the call's trimmed cell
        both_hit = trims[c_rows]
        hit, was = c_rows[both_hit], cached[both_hit]
        at = np.searchsorted(rows, hit)
        left = np.minimum(was, tin[hit] - trimmed[at])
        served = served + np.bincount(key[hit] + shift[at], left, space)
        served -= np.bincount(key[hit], was, space)
        both = {
            **trim,
            "cache_read_tokens": trim.get("cache_read_tokens", np.zeros(space)) + served,
        }
        base = self.base
        return (
            self._cost(base, own),
            self._cost(base, new),
            self._cost(self._cells(self.count, cache), own),
            self._cost(self._cells(trim_count, trim), own),
            self._cost(self._cells(trim_count, both), new),
        )


def _first_rows(key: np.ndarray, cell_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group (``cell_group[key]`` of the calls), its first call; reads the calls past
    ``_HEAD`` only for the groups not seen in the head.

    Example:
        >>> _first_rows(np.array([3, 1, 3, 0]), np.array([0, 1, 1, 2]), 3).tolist()
        [3, 1, 0]
    """
    n = len(key)
    first = np.full(n_groups, n, dtype=np.int64)
    head = key[:_HEAD]
    cells, at = np.unique(head, return_index=True)
    np.minimum.at(first, cell_group[cells], at)
    missing = first == n
    if missing.any() and n > len(head):
        found = len(head) + np.flatnonzero(missing[cell_group][key[len(head) :]])
        np.minimum.at(first, cell_group[key[found]], found)
    return first


def _cache_scan(tokens: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The calls without cache tokens (reads + ``cache_write_tokens``, as :func:`_levers`,
    at most 0) and those with more cache tokens than prompt, in call order; by slices, so the
    cache tokens per call are never stored.

    Example:
        >>> _cache_scan({"input_tokens": np.array([5, 5, 5]),
        ...              "cache_read_tokens": np.array([0, 3, 9])})
        (array([0]), array([2]))
    """
    tin = tokens["input_tokens"]
    parts = [tokens[c] for c in ("cache_read_tokens", "cache_write_tokens") if c in tokens]
    if not parts:
        return np.arange(len(tin)), np.flatnonzero(tin < 0)
    none, over = [], []
    for lo in range(0, len(tin), _SLICE):
        part = slice(lo, lo + _SLICE)
        cached = parts[0][part] + parts[1][part] if len(parts) == 2 else parts[0][part]
        none.append(np.flatnonzero(cached <= 0) + lo)
        over.append(np.flatnonzero(tin[part] < cached) + lo)
    return np.concatenate(none), np.concatenate(over)


def _in_cache(tokens: Mapping[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Cache reads + ``cache_write_tokens`` of the calls ``rows``."""
    parts = [tokens[c][rows] for c in ("cache_read_tokens", "cache_write_tokens") if c in tokens]
    return sum(parts[1:], parts[0]) if parts else np.zeros(len(rows), dtype=np.int64)


def _task_quantiles(
    codes: np.ndarray, labels: np.ndarray, tokens: np.ndarray, qs: list[float]
) -> np.ndarray:
    """Per label position (``labels[codes]`` per call, labels merged by text), the
    ``group_quantiles`` of ``tokens`` (non-negative integers) of its task type: a histogram of
    the prompt lengths per task when the quantiles fall below ``_HISTOGRAM_TOKENS``, else a sort.

    Example:
        >>> _task_quantiles(np.array([0, 0, 0, 1]), np.array(["a", "b", "nan"]),
        ...                 np.array([1, 2, 4, 9]), [0.5, 0.75]).tolist()[:2]
        [[2.0, 3.0], [9.0, 9.0]]
    """
    text, merged = np.unique(labels.astype(str), return_inverse=True)
    merged = merged.reshape(-1)
    cap = min(int(tokens.max()), _HISTOGRAM_TOKENS)
    width = cap + 1
    hist = np.zeros(len(labels) * width, dtype=np.int64)
    for lo in range(0, len(tokens), _HISTOGRAM_SLICE):
        part = slice(lo, lo + _HISTOGRAM_SLICE)
        digit = np.minimum(tokens[part], cap)
        digit += np.multiply(codes[part], width, dtype=np.int64)
        digit += width  # code -1 (missing) -> row 0
        hist += np.bincount(digit, minlength=len(hist))
    hist = hist.reshape(-1, width)
    hist = np.roll(hist, -1, axis=0)  # row r: labels[r] (the missing, code -1, came first)
    per = np.zeros((len(text), width), dtype=np.int64)
    np.add.at(per, merged, hist)
    counts = per.sum(axis=1)
    cum = np.cumsum(per, axis=1)
    out = np.full((len(text), len(qs)), np.nan)
    for g in np.flatnonzero(counts):
        for j, q in enumerate(qs):
            idx = q * (counts[g] - 1)
            lo = int(np.floor(idx))
            frac = idx - lo
            ranks = [lo, min(lo + 1, int(counts[g]) - 1)]
            below, above = np.searchsorted(cum[g], ranks, side="right").astype(float)
            if max(below, above) >= cap and cap < int(tokens.max()):
                return _sorted_quantiles(codes, merged, tokens, qs, len(text))
            out[g, j] = below if frac == 0 else below + (above - below) * frac
    return out[merged]


def _sorted_quantiles(
    codes: np.ndarray, merged: np.ndarray, tokens: np.ndarray, qs: list[float], n: int
) -> np.ndarray:
    """:func:`_task_quantiles` by one sort (``group_quantiles``)."""
    group = merged[codes]
    used = np.bincount(group, minlength=n) > 0
    dense = np.cumsum(used) - 1
    out = np.full((n, len(qs)), np.nan)
    out[used] = group_quantiles(dense[group], tokens, int(used.sum()), qs)
    return out[merged]


def _trims(
    calls: pd.DataFrame,
    tokens: Mapping[str, np.ndarray],
    over: np.ndarray,
    config: OptimizationConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calls prompt trimming changes, the tokens it removes from each (what
    :func:`_levers` computes per call: ``_trimmable_input_tokens`` capped at the uncached
    prompt), in call order, and per call whether it is one of them. ``over``: the calls with
    more cache tokens than prompt (their "trimming" adds tokens)."""
    tin = tokens["input_tokens"]
    codes, labels = _cells.digits(calls["task_type"])
    q = _task_quantiles(codes, labels, tin, [config.long_quantile, config.target_quantile])
    # an integer prompt is above a quantile when it is above the quantile's integer part
    above = np.floor(np.nan_to_num(q[:, 0])).astype(np.int64)
    trims = np.empty(len(tin), dtype=bool)
    for lo in range(0, len(tin), _SLICE):
        part = slice(lo, lo + _SLICE)
        np.greater(tin[part], above[codes[part]], out=trims[part])
    long = np.flatnonzero(trims)
    rows, trimmable = long, tin[long] - q[:, 1][codes[long]]
    if len(over):
        rows = np.union1d(long, over)
        trimmable = np.zeros(len(rows))
        trimmable[np.searchsorted(rows, long)] = tin[long] - q[:, 1][codes[long]]
        trims[over] = True
    room = (tin[rows] - _in_cache(tokens, rows)).astype(float)
    return rows, np.minimum(trimmable, room), trims


def _in_time_order(calls: pd.DataFrame) -> bool:
    """Whether the calls are sorted by time without missing timestamps (``_cacheable...``
    then needs no reordering)."""
    values = calls["timestamp"].array
    if not isinstance(values, pd.arrays.DatetimeArray):
        return False
    ns = values.asi8
    return not len(ns) or (ns[0] != np.iinfo(np.int64).min and bool((ns[1:] >= ns[:-1]).all()))


def _cache_rows(
    calls: pd.DataFrame, tin: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The calls prompt caching changes and the tokens it serves from the cache to each
    (``_cacheable_input_tokens`` where a call has no cache tokens yet: ``rows``), in call
    order."""
    if "session_id" not in calls:
        return rows[:0], np.zeros(0)
    if not _in_time_order(calls):
        return rows, _cacheable_input_tokens(calls)[rows]
    session, _ = id_codes(calls["session_id"])
    s = session[rows]
    rows, s = rows[s >= 0], s[s >= 0]
    before = np.maximum.accumulate(session)
    first = np.flatnonzero(session[1:] > before[:-1]) + 1  # sessions numbered as they appear
    if len(session) and session[0] >= 0:
        first = np.concatenate([[0], first])
    at = first[s]
    later = at != rows
    rows = rows[later]
    return rows, np.minimum(tin[at[later]], tin[rows]).astype(float)


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
    reprice: _Repricer | _CellPricer,
    cands: list[tuple[str, str]],
    config: OptimizationConfig,
) -> pd.DataFrame:
    """Cheapest acceptable model per (task_type, provider, model), with saving and quality risk.

    One row per current (task_type, provider, model): calls, ``current_cost_usd`` (the calls
    priced on their own model), ``candidate_*`` (the cheapest candidate within
    ``max_quality_drop`` simulated points, or the current model when none is cheaper; each
    candidate prices the same calls, every token kind, on its model), ``saving_usd`` and
    ``quality_drop`` (simulated points lost). Largest saving first. ``reprice`` holds the
    groups (``names``, the plan's rows before sorting) and prices them.
    """
    max_quality_drop, complexity_map = config.max_quality_drop, config.complexity_map
    names = reprice.names

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
    counts = reprice.counts
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
    return out.sort_values("saving_usd", ascending=False).reset_index(drop=True)


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


def _levers(
    calls: pd.DataFrame,
    total: _Repricer,
    own: tuple[np.ndarray, np.ndarray],
    new: tuple[np.ndarray, np.ndarray],
    config: OptimizationConfig,
) -> tuple[float, float, float, float, float]:
    """Cost today, with right-sizing alone, caching alone, trimming alone and all three (on
    per-call token arrays: a pricer, or token counts that are not all integers)."""
    long_quantile, target_quantile = config.long_quantile, config.target_quantile
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
    current = total.of(own)
    # each lever alone, against today's models
    rs_only = total.of(new)
    cache_only = total.of(own, cache_read_tokens=read + cached)
    trim_only = total.of(own, input_tokens=eff_in)
    # combined: new model, trimmed prompt, cache on what is left
    combined = total.of(
        new, input_tokens=eff_in, cache_read_tokens=read + np.minimum(cached, eff_in)
    )

    return current, rs_only, cache_only, trim_only, combined


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
    reprice = _CellPricer.build(calls, table) if table is not None else None
    reprice = reprice or _Repricer(calls, price, table)
    plan = _right_sizing(reprice, _candidates(prices, config), config)
    names = reprice.names

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

    if isinstance(reprice, _CellPricer):
        current, rs_only, cache_only, trim_only, combined = reprice.levers(calls, own, new, config)
    else:
        current, rs_only, cache_only, trim_only, combined = _levers(
            calls, reprice, own, new, config
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
