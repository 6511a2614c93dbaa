"""One entry point for the alert rules: a fixed limit, a budget, the spike rule, a shift."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import pandas as pd

from ._alerts import budget_alerts, run_rate_budgets, threshold_alerts
from ._config import DetectorConfig
from ._detect import behaviour_changes, spike_alerts, spike_scores
from ._matrix import calls_matrix, metric_matrix

#: The rules :func:`alerts` applies.
Rule = Literal["threshold", "budget", "spike", "shift"]

Limit = float | Mapping[str, float] | pd.Series


def alerts(
    calls: pd.DataFrame,
    rule: Rule,
    *,
    limit: Limit | None = None,
    levels: Sequence[float] = (0.5, 0.8, 1.0),
    config: DetectorConfig | None = None,
) -> pd.DataFrame:
    """Alerts of one rule on the calls, per ``config.by`` entity and ``config.freq`` period.

    ``rule``:

    * ``"threshold"``: periods whose spend exceeds ``limit`` (one amount, or one per entity):
      ``period, entity, actual, threshold, excess``;
    * ``"budget"``: when each entity's month-to-date spend first crossed each of ``levels`` of
      its monthly budget ``limit`` (AWS Budgets style): ``entity, period, level, budget,
      crossed_at`` (the call that crossed; ties broken by ``call_id``), ``spend_at_crossing``.
      Without ``limit``, the book's budget: 1.5 x the first week's spend scaled to 30 days
      (the run-rate budget of the real-time analyzer; see ``BUDGET_HEADROOM``);
    * ``"spike"``: the three-part spike rule of :func:`detect`: robust z above
      ``config.threshold`` AND ``config.min_ratio`` x the trailing median AND ``config.min_abs``
      dollars above it, confirmed by the call count (``confirm="calls"``), for entities with a
      history (``require_history``): ``period, entity, actual, expected, score, ratio`` (and
      ``calls, expected_calls, calls_score, calls_ratio`` when confirming);
    * ``"shift"``: a *new normal*: the CUSUM of the shift scores (:func:`score`) crosses
      ``config.cusum_h`` and the median since the onset is ``config.shift_ratio`` x the
      baseline and ``config.min_abs`` above it: ``onset, period (alarm), entity, baseline,
      level, ratio, cusum``.

    The rules watch ``config.metric`` (spend by default; ``"calls"`` counts calls, so
    ``limit`` is then a number of calls per period; ``"cost_per_call"`` and
    ``"calls_per_request"`` divide them, and their spike and shift alerts have no ``min_abs``
    floor: :func:`detect` applies it in dollars per anomaly window).

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC"),
        ...                       "customer_id": ["a"] * 4, "cost_usd": [3.0, 3.0, 12.0, 3.0]})
        >>> alerts(calls, "threshold", limit=10.0)[["entity", "actual"]].values.tolist()
        [['a', 12.0]]
        >>> alerts(calls, "budget", limit=10.0)[["level", "spend_at_crossing"]].values.tolist()
        [[0.5, 6.0], [0.8, 18.0], [1.0, 18.0]]
        >>> week = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=10, tz="UTC"),
        ...                      "customer_id": "a", "cost_usd": [1.0] * 9 + [100.0]})
        >>> alerts(week, "budget")[["budget", "level"]].values.tolist()  # 1.5 x $7 x 30 / 7
        [[45.0, 0.5], [45.0, 0.8], [45.0, 1.0]]
    """
    cfg = config or DetectorConfig()
    if rule not in get_args(Rule):
        raise ValueError(f"rule={rule!r} is not one of {list(get_args(Rule))}")
    if rule == "threshold" and limit is None:
        raise ValueError(f"rule={rule!r} needs limit= (one amount, or one per entity)")
    if rule == "budget":
        if limit is None:  # the book's budget: a run-rate with headroom
            budgets = run_rate_budgets(calls, cfg.by)
            limit = budgets if cfg.by else float(budgets.iloc[0])
        return budget_alerts(calls, limit, by=cfg.by, levels=levels)
    costs = metric_matrix(calls, cfg.by, cfg.freq, cfg.metric)
    if rule == "threshold":
        return threshold_alerts(costs, limit)
    if rule == "shift":
        return behaviour_changes(costs, cfg)
    if cfg.metric != "cost_usd":  # confirming by the call count is for spend only, and a
        # ratio's dollar floor needs a window: detect() applies it, a cell alert does not
        ratio = cfg.metric in ("cost_per_call", "calls_per_request")
        cfg = dataclasses.replace(cfg, confirm=None, min_abs=0.0 if ratio else cfg.min_abs)
    counts = calls_matrix(calls, costs, cfg.by, cfg.freq) if cfg.confirm == "calls" else None
    return spike_alerts(spike_scores(costs, calls=counts, config=cfg), cfg)
