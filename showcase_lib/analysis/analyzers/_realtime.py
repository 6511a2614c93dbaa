"""FinOps "real-time": spike detection on the metered stream, budget thresholds, burn rate.

The detector (:class:`StreamingSpikeDetector`) consumes spend per customer one time bucket at a
time (e.g. every 10 minutes), as a service watching the metered stream would, and raises an
:class:`Alert` when a customer's recent spend jumps far above its own trailing baseline. Budgets
turn month-to-date spend into threshold crossings (50/80/100%), burn rate and the time left
before a budget runs out. :func:`token_bucket` and :func:`budget_cap` replay what a per-customer
rate limit or hard cap would have let through.

Example:
    >>> import numpy as np
    >>> det = StreamingSpikeDetector(["a", "b"], StreamConfig(window_buckets=6, recent_buckets=1,
    ...                              min_history=6, min_usd=0.5))
    >>> alerts = []
    >>> for t in range(10):
    ...     spend = np.array([1.0, 1.0 if t < 8 else 12.0])
    ...     alerts += det.update(t, spend)
    >>> [(a.key, a.bucket) for a in alerts]
    [('b', 8)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from showcase_lib.analysis import anomalies
from showcase_lib.analysis.anomalies import _alerts
from showcase_lib.analysis.anomalies._cells import group_sums, timestamp_ns

from ._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    require_columns,
    require_rows,
)
from ._keys import first_seen, str_codes

#: Budget shares that raise an alert: AWS Budgets' usual 50/80/100% ladder (a heads-up,
#: time to act, over).
THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 1.0)


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Settings of :class:`StreamingSpikeDetector` (counts are in buckets of the stream).

    Example:
        >>> StreamConfig(window_buckets=432, recent_buckets=6).factor
        3.0
    """

    #: Buckets of history kept per key: 144 ten-minute buckets are one day of baseline.
    window_buckets: int = 144
    #: Buckets compared with the baseline: 3 ten-minute buckets, the last half hour.
    recent_buckets: int = 3
    #: Recent spend must be this many times the expected spend (relative part of the rule).
    factor: float = 3.0
    #: ... and this many standard deviations above it (statistical part).
    z: float = 4.0
    #: ... and this many dollars above it (material part), so cents never page anyone.
    min_usd: float = 1.0
    #: Buckets seen before the first alert (None: a full window).
    min_history: int | None = None
    #: Quiet buckets after which a key may alert again: 12 ten-minute buckets, two hours.
    rearm_buckets: int = 12


# --------------------------------------------------------------------------- streaming detector
@dataclass(frozen=True)
class Alert:
    """One spike alert: which key, in which bucket, how far above its baseline.

    ``bucket`` is the label passed to :meth:`StreamingSpikeDetector.update` (a timestamp in
    practice); ``recent_usd`` is the spend of the recent window that triggered the alert and
    ``expected_usd`` what the baseline predicted for it.
    """

    key: str
    bucket: object
    recent_usd: float
    expected_usd: float

    @property
    def ratio(self) -> float:
        """Recent spend over expected spend."""
        return self.recent_usd / self.expected_usd if self.expected_usd > 0 else float("inf")


class StreamingSpikeDetector:
    """Per-key spike detector over a stream of spend buckets (constant memory per key).

    For every key it keeps the last ``window_buckets`` bucket totals. After each update, the
    spend of the last ``recent_buckets`` buckets is compared with what the older part of the
    window predicts (mean and standard deviation scaled to the recent length). An alert fires
    when the recent spend is (1) at least ``factor`` times the expected spend, (2) above the
    expectation by ``z`` standard deviations and (3) by at least ``min_usd`` dollars -- the
    three-part rule used by production cost monitors to keep false alarms down. A key alerts
    once per episode and re-arms after ``rearm_buckets`` quiet buckets.

    Example:
        >>> det = StreamingSpikeDetector(["x"], StreamConfig(window_buckets=4, recent_buckets=1,
        ...                                                  min_history=4))
        >>> [det.update(t, np.array([2.0])) for t in range(5)][-1]
        []
    """

    def __init__(self, keys: Sequence[str], config: StreamConfig | None = None) -> None:
        cfg = config or StreamConfig()
        window_buckets, recent_buckets = cfg.window_buckets, cfg.recent_buckets
        factor, z, min_usd = cfg.factor, cfg.z, cfg.min_usd
        min_history, rearm_buckets = cfg.min_history, cfg.rearm_buckets
        if recent_buckets < 1 or window_buckets <= recent_buckets:
            raise ValueError(
                f"window_buckets={window_buckets} must exceed recent_buckets={recent_buckets} >= 1"
            )
        self.keys = [str(k) for k in keys]
        self.window_buckets = window_buckets
        self.recent_buckets = recent_buckets
        self.factor, self.z, self.min_usd = float(factor), float(z), float(min_usd)
        self.min_history = window_buckets if min_history is None else int(min_history)
        self.rearm_buckets = rearm_buckets
        n = len(self.keys)
        self._ring = np.zeros((window_buckets, n))
        self._pos = 0
        self._seen = 0
        self._active = np.zeros(n, dtype=bool)
        self._quiet = np.zeros(n, dtype=np.int64)

    def update(self, bucket: object, spend: np.ndarray) -> list[Alert]:
        """Add one bucket of spend (aligned with ``keys``) and return the alerts it raises."""
        spend = np.asarray(spend, dtype=float)
        if spend.shape != (len(self.keys),):
            raise ValueError(f"spend has shape {spend.shape}; expected ({len(self.keys)},)")
        self._ring[self._pos] = spend
        self._pos = (self._pos + 1) % self.window_buckets
        self._seen += 1
        if self._seen < max(self.min_history, self.recent_buckets + 2):
            return []
        filled = min(self._seen, self.window_buckets)
        order = (np.arange(self._pos - filled, self._pos)) % self.window_buckets
        window = self._ring[order]
        recent = window[-self.recent_buckets :].sum(axis=0)
        base = window[: -self.recent_buckets]
        mean, sd = base.mean(axis=0), base.std(axis=0)
        expected = mean * self.recent_buckets
        spread = sd * np.sqrt(self.recent_buckets)
        hot = (
            (recent >= self.factor * expected)
            & (recent > expected + self.z * spread)
            & (recent - expected >= self.min_usd)
        )
        self._quiet = np.where(hot, 0, self._quiet + 1)
        fire = hot & ~self._active
        self._active = (self._active | hot) & (self._quiet < self.rearm_buckets)
        return [
            Alert(self.keys[i], bucket, float(recent[i]), float(expected[i]))
            for i in np.flatnonzero(fire)
        ]


def bucket_spend(calls: pd.DataFrame, freq: str = "10min", by: str = "customer_id") -> pd.DataFrame:
    """Spend per time bucket (rows, every bucket present) and per value of ``by`` (columns).

    Example:
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 00:05",
        ...     "2026-01-01 00:25"], utc=True), "customer_id": ["a", "a"], "cost_usd": [1.0, 2.0]})
        >>> bucket_spend(df)["a"].tolist()
        [1.0, 0.0, 2.0]
    """
    require_columns(calls, ["timestamp", "cost_usd", by], who="bucket_spend")
    step = pd.Timedelta(freq)
    ts = calls["timestamp"]
    first = ts.min().floor(freq)
    ns = _ns(ts)
    if ns is not None:  # integer arithmetic on the nanoseconds, as the Timedelta path gives
        pos = (ns - first.value) // step.value
    else:
        pos = ((ts - first) // step).to_numpy(dtype=np.int64)
    codes, labels = str_codes(calls[by])
    n_b, n_k = int(pos.max()) + 1, len(labels)
    flat = pos * n_k + codes
    sums = np.bincount(
        flat, weights=calls["cost_usd"].to_numpy(dtype=float), minlength=n_b * n_k
    ).reshape(n_b, n_k)
    index = pd.date_range(first, periods=n_b, freq=step, name="bucket")
    return pd.DataFrame(sums, index=index, columns=pd.Index(labels, dtype=object, name=by))


def detect_stream(wide: pd.DataFrame, config: StreamConfig | None = None) -> pd.DataFrame:
    """Replay a bucketed spend frame (from :func:`bucket_spend`) through the streaming detector.

    Returns one row per alert: key, bucket (start), detected_at (bucket end), recent_usd,
    expected_usd, ratio.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=12, freq="h", tz="UTC")
        >>> w = pd.DataFrame({"a": [1.0] * 10 + [9.0, 9.0]}, index=idx)
        >>> detect_stream(w, StreamConfig(window_buckets=8, recent_buckets=1, min_history=8))["key"].tolist()
        ['a']
    """
    det = StreamingSpikeDetector(list(map(str, wide.columns)), config)
    values = wide.to_numpy(dtype=float)
    step = wide.index[1] - wide.index[0] if len(wide.index) > 1 else pd.Timedelta(0)
    alerts: list[Alert] = []
    for i, bucket in enumerate(wide.index):
        alerts.extend(det.update(bucket, values[i]))
    rows = [
        (a.key, a.bucket, a.bucket + step, a.recent_usd, a.expected_usd, a.ratio) for a in alerts
    ]
    return pd.DataFrame(
        rows, columns=["key", "bucket", "detected_at", "recent_usd", "expected_usd", "ratio"]
    )


# --------------------------------------------------------------------------- containment
def token_bucket(demand: np.ndarray, *, rate: float, capacity: float, start: int = 0) -> np.ndarray:
    """Spend a token-bucket rate limit lets through, bucket by bucket.

    ``demand`` is the spend (or tokens) asked for in each bucket; from bucket ``start`` on, the
    limiter refills ``rate`` per bucket up to ``capacity`` and serves at most what it holds.
    Before ``start`` everything is served (the limit is not active yet).

    Example:
        >>> token_bucket(np.array([1.0, 5.0, 5.0, 0.0, 5.0]), rate=2.0, capacity=4.0, start=1)
        array([1., 4., 2., 0., 4.])
    """
    demand = np.asarray(demand, dtype=float)
    served = demand.copy()
    tokens = capacity
    for i in range(start, len(demand)):
        take = min(demand[i], tokens)
        served[i] = take
        tokens = min(capacity, tokens - take + rate)
    return served


def budget_cap(demand: np.ndarray, cap: float) -> np.ndarray:
    """Spend a hard cap lets through: everything until the cumulative spend reaches ``cap``.

    Example:
        >>> budget_cap(np.array([2.0, 2.0, 2.0]), 5.0)
        array([2., 2., 1.])
    """
    demand = np.asarray(demand, dtype=float)
    before = np.concatenate([[0.0], np.cumsum(demand)[:-1]])
    return np.clip(cap - before, 0.0, demand)


# --------------------------------------------------------------------------- budgets
def _by_label(
    cost: pd.Series, codes: np.ndarray, labels: np.ndarray, rows: np.ndarray | None = None
) -> pd.Series:
    """Sum of ``cost`` per label over ``rows`` (a mask; None: every call), as
    ``cost[rows].groupby(values[rows].astype(str)).sum()`` adds them (pandas' compensated sum,
    in row order), with 0.0 for the labels without such a call."""
    values = cost.to_numpy(dtype=float)
    if rows is not None:  # the rows, in order (a burn window is a thirtieth of a month)
        at = np.flatnonzero(rows)
        values, codes = values[at], codes[at]
    sums = group_sums(values, codes, len(labels))
    return pd.Series(sums, index=pd.Index(labels, dtype=object))


def _key_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == values.astype(str)`` for sums per key: a
    categorical column's own codes when its categories read as distinct texts and no value is
    missing (labels in category order, unused ones included: they sum to 0), else
    :func:`str_codes` (sorted, used labels).

    Example:
        >>> codes, labels = _key_codes(pd.Series(["b", "a", "b"], dtype="category"))
        >>> labels[codes].tolist()
        ['b', 'a', 'b']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        labels = np.asarray([str(c) for c in values.cat.categories], dtype=object)
        raw = values.array.codes
        if len(set(labels)) == len(labels) and (not len(raw) or raw.min() >= 0):
            return raw, labels
    return str_codes(values)


def _edge(ts: pd.Series, ns: np.ndarray | None, which: Literal["min", "max"]) -> pd.Timestamp:
    """``ts.min()`` or ``ts.max()``, from the nanoseconds of :func:`_ns` when there are some.

    Example:
        >>> ts = pd.Series(pd.to_datetime(["2026-01-02", "2026-01-01"], utc=True))
        >>> _edge(ts, _ns(ts), "max") == ts.max(), _edge(ts, None, "min") == ts.min()
        (True, True)
    """
    if ns is None or not len(ns) or ts.dtype != "datetime64[ns, UTC]":
        return getattr(ts, which)()
    return pd.Timestamp(int(getattr(ns, which)()), tz="UTC")


def _ns(ts: pd.Series) -> np.ndarray | None:
    """The timestamps as int64 nanoseconds (UTC) to compare with ``Timestamp.value``, when
    they carry a time zone and none is missing (NaT compares false either way); else None.

    Example:
        >>> _ns(pd.Series(pd.to_datetime(["1970-01-01 00:00:02"], utc=True))).tolist()
        [2000000000]
    """
    if not isinstance(ts.dtype, pd.DatetimeTZDtype) or ts.hasnans:
        return None
    return timestamp_ns(ts)


def budget_status(
    calls: pd.DataFrame,
    budgets: Mapping[str, float] | pd.Series,
    *,
    by: str = "customer_id",
    asof: pd.Timestamp | None = None,
    burn_window: str = "24h",
) -> pd.DataFrame:
    """Month-to-date spend against a monthly budget per key, threshold crossings, burn rate.

    Threshold crossings come from Part B's ``anomalies.alerts(calls, "budget", ...)``.

    For the calendar month of ``asof`` (default: the last call): ``spent_usd``, ``budget_usd``,
    ``used`` (fraction), the first time each threshold was crossed (``crossed_50``...),
    ``burn_usd_per_hour`` over the trailing ``burn_window``, and ``hours_to_exhaustion``
    (remaining budget / burn rate; 0 when already exhausted, inf when not burning).

    Example:
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01 00:00",
        ...     "2026-01-01 12:00"], utc=True), "customer_id": ["a", "a"], "cost_usd": [6.0, 6.0]})
        >>> s = budget_status(df, {"a": 20.0})
        >>> s.loc[0, "used"], s.loc[0, "burn_usd_per_hour"], s.loc[0, "hours_to_exhaustion"]
        (np.float64(0.6), np.float64(0.5), np.float64(16.0))
    """
    require_columns(calls, ["timestamp", "cost_usd", by], who="budget_status")
    ts = calls["timestamp"]
    ns = _ns(ts)
    asof = _edge(ts, ns, "max") if asof is None else pd.Timestamp(asof)
    month_start = asof.tz_convert("UTC").tz_localize(None).to_period("M").to_timestamp()
    month_start = month_start.tz_localize("UTC")
    if ns is not None:
        keep = (ns >= month_start.value) & (ns <= asof.value)
    else:
        keep = ((ts >= month_start) & (ts <= asof)).to_numpy()
    every = bool(keep.all())
    cost = calls["cost_usd"]
    read = {"timestamp": ts, "cost_usd": cost, by: calls[by]}  # the columns read, not the record
    if not every:  # the month's calls, by array takes (no index to carry)
        read = {k: v.array[keep] for k, v in read.items()}
    in_month = pd.DataFrame(read, copy=False)
    budget = pd.Series(budgets, dtype=float)
    budget.index = budget.index.astype(str)
    codes, labels = _key_codes(calls[by])  # sums per key over the month's rows
    spent = _by_label(cost, codes, labels, None if every else keep)
    spent = spent.reindex(budget.index, fill_value=0.0)
    out = pd.DataFrame(
        {by: budget.index, "budget_usd": budget.to_numpy(), "spent_usd": spent.to_numpy()}
    )
    out["used"] = out["spent_usd"] / out["budget_usd"]
    crossings = _alerts.budget_alerts(in_month, budget, by=by, levels=THRESHOLDS)
    for t in THRESHOLDS:
        hit = crossings[crossings["level"] == float(t)].groupby("entity")["crossed_at"].min()
        out[f"crossed_{round(t * 100):d}"] = out[by].map(hit)
    window_start = asof - pd.Timedelta(burn_window)
    if ns is not None:
        recent = keep & (ns > window_start.value)
    else:
        recent = keep & (ts > window_start).to_numpy()
    hours = pd.Timedelta(burn_window) / pd.Timedelta(hours=1)
    burn = _by_label(cost, codes, labels, recent) / hours
    out["burn_usd_per_hour"] = out[by].map(burn).fillna(0.0).to_numpy()
    remaining = (out["budget_usd"] - out["spent_usd"]).clip(lower=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hte = np.where(
            remaining <= 0,
            0.0,
            np.where(out["burn_usd_per_hour"] > 0, remaining / out["burn_usd_per_hour"], np.inf),
        )
    out["hours_to_exhaustion"] = hte
    month_end = month_start + pd.offsets.MonthBegin(1)
    out["hours_left_in_month"] = (month_end - asof) / pd.Timedelta(hours=1)
    out["exhausts_before_month_end"] = out["hours_to_exhaustion"] < out["hours_left_in_month"]
    return out.sort_values("used", ascending=False).reset_index(drop=True)


def default_budgets(
    calls: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    share_of_fee: float = 0.3,
    by: str = "customer_id",
) -> pd.Series:
    """Monthly AI budget per customer: ``share_of_fee`` x monthly fee (if ``customers`` given).

    Without a customer table, each customer's budget is 1.5x its own spend in the first
    7 days scaled to 30 days (a stated assumption), at least $1.

    Example:
        >>> cust = pd.DataFrame({"customer_id": ["a"], "monthly_fee_usd": [100.0]})
        >>> default_budgets(pd.DataFrame({"customer_id": ["a"]}), cust).tolist()
        [30.0]
    """
    if customers is not None and "monthly_fee_usd" in customers:
        fees = customers.set_index(customers[by].astype(str))["monthly_fee_usd"].astype(float)
        return (fees * share_of_fee).rename("budget_usd")
    ts = calls["timestamp"]
    ns = _ns(ts)
    first = _edge(ts, ns, "min")
    if ns is not None:
        early = ns < (first + pd.Timedelta(days=7)).value
    else:
        early = (ts < first + pd.Timedelta(days=7)).to_numpy()
    codes, labels = _key_codes(calls[by])
    base = _by_label(calls["cost_usd"], codes, labels, early) * 30.0 / 7.0
    keys = labels[first_seen(codes, len(labels))]  # what .unique() lists: first seen first
    return (1.5 * base.reindex(keys, fill_value=0.0)).clip(lower=1.0).rename("budget_usd")


# --------------------------------------------------------------------------- the analyzer
@dataclass
class RealtimeResult(AnalysisResult):
    """Anomalies (AWS-style windows), budget status and burn, spend a cap would have blocked."""

    anomalies: pd.DataFrame = field(default_factory=pd.DataFrame)
    budgets: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    """Settings of the real-time analyzer (``analyze("realtime", ..., config=...)``).

    Example:
        >>> RealtimeConfig(freq="hour").share_of_fee
        0.3
    """

    #: Key the budgets and anomalies are per.
    by: str = "customer_id"
    #: Detection periods, as cloud cost-anomaly services report them.
    freq: Literal["hour", "day", "week"] = "day"
    #: Default budget: 30% of the monthly fee, a typical AI cost share of a SaaS price.
    share_of_fee: float = 0.3
    #: Overrides of the detector settings (by and freq above win); None: the defaults below.
    detector: anomalies.DetectorConfig | None = None
    #: The instant budgets are judged at (None: the last call).
    asof: pd.Timestamp | None = None


def _detector(calls: pd.DataFrame, cfg: RealtimeConfig) -> anomalies.DetectorConfig:
    """The analyzer's detector: a two-week window, 2x and $5 above expected unless overridden."""
    if cfg.detector is not None:
        return dataclasses.replace(cfg.detector, by=cfg.by, freq=cfg.freq)
    # the production rule's two weeks of baseline and one of history at any period length (7
    # and 3 periods at least, DetectorConfig.at); a budget owner wants to hear of a doubling
    # worth $5 a period, earlier than the paging rule
    return anomalies.DetectorConfig.at(
        cfg.freq,
        by=cfg.by,
        threshold=3.5,
        min_ratio=2.0,
        min_abs=5.0,
        dimensions=tuple(d for d in ("customer_id", "model", "feature_id") if d in calls.columns),
    )


def analyze_realtime(
    calls: pd.DataFrame,
    *,
    budgets: Mapping[str, float] | pd.Series | None = None,
    customers: pd.DataFrame | None = None,
    config: RealtimeConfig | None = None,
) -> RealtimeResult:
    """Detect spend anomalies per ``by`` value and track monthly budgets, burn and runway.

    Anomalies come from Part B's ``anomalies.detect`` on ``config.freq`` periods (daily by
    default, as cloud cost-anomaly services report them; trailing two-week window, a flag needs
    2x the expected spend and $5 above it; override with ``config.detector``). Budget crossings are found at
    the call that crossed, and burn rate uses the trailing 24 hours, so they are as fresh as
    the last metered call. Minute-level detection on the stream is
    :class:`StreamingSpikeDetector` (notebook 12). ``budgets`` defaults to :func:`default_budgets` (``share_of_fee`` of
    each customer's monthly fee when ``customers`` is given).

    Example:
        >>> ts = pd.date_range("2026-01-01", periods=48, freq="h", tz="UTC")  # $1 every hour
        >>> df = pd.DataFrame({"timestamp": ts, "customer_id": "a", "cost_usd": 1.0})
        >>> r = analyze_realtime(df, budgets={"a": 40.0})
        >>> bool(r.budgets.loc[0, "crossed_100"] == ts[39])
        True
    """
    who = "analyze_realtime"
    cfg = config or RealtimeConfig()
    by, freq, share_of_fee, asof = cfg.by, cfg.freq, cfg.share_of_fee, cfg.asof
    require_columns(calls, ["timestamp", "cost_usd", by], who=who)
    require_rows(calls, who=who)
    detector = _detector(calls, cfg)
    alerts = anomalies.detect(calls, detector)
    settings = {
        k: getattr(detector, k)
        for k in ("window", "min_periods", "threshold", "min_ratio", "min_abs")
    }
    budget = (
        default_budgets(calls, customers, share_of_fee=share_of_fee, by=by)
        if budgets is None
        else pd.Series(budgets, dtype=float)
    )
    status = budget_status(calls, budget, by=by, asof=asof)

    # what a hard cap at 100% of budget would have blocked this month (per key, vectorised)
    over = status[status["crossed_100"].notna()]
    blocked = float((over["spent_usd"] - over["budget_usd"]).clip(lower=0).sum())
    ts = calls["timestamp"]
    asof_ts = _edge(ts, _ns(ts), "max") if asof is None else pd.Timestamp(asof)
    month_end = (
        asof_ts.tz_convert("UTC").tz_localize(None).to_period("M").to_timestamp()
        + pd.offsets.MonthBegin(1)
    ).tz_localize("UTC")
    warn_hours = (
        ((month_end - over["crossed_100"]) / pd.Timedelta(hours=1)).mean() if len(over) else 0.0
    )
    runway = status.loc[status["exhausts_before_month_end"] & (status["used"] < 1.0)]
    first_alert = alerts["detected_at"].min() if len(alerts) else None
    impact = float(alerts["impact_usd"].sum()) if len(alerts) else 0.0

    headline = [
        Metric("Anomalies", float(len(alerts)), "count", f"{freq} periods, trailing baseline"),
        Metric("Anomaly impact (actual - expected)", impact, "usd"),
        Metric("Keys over budget", float(len(over)), "count"),
        Metric("Spend above budget (a cap would block)", blocked, "usd"),
        Metric("Keys that will exhaust budget before month end", float(len(runway)), "count"),
        Metric(
            "Fleet burn rate",
            float(status["burn_usd_per_hour"].sum()),
            "usd",
            "per hour, trailing 24 h",
        ),
    ]
    findings = [
        f"{len(alerts)} anomaly window(s) with ${impact:,.2f} of spend above expected"
        + (
            f"; the first could alert at {first_alert:%Y-%m-%d %H:%M} UTC."
            if first_alert is not None
            else "."
        )
    ]
    if len(alerts):
        top = alerts.sort_values("impact_usd", ascending=False).iloc[0]
        findings.append(
            f"Largest: {by}={top['entity']} ({top['kind']}), "
            f"${top['impact_usd']:,.2f} above expected; root cause "
            f"{top['top_root_cause'] or 'n/a'}."
        )
    if len(over):
        findings.append(
            f"{len(over)} {by} value(s) crossed 100% of budget, on average "
            f"{warn_hours:,.0f} hours before the month closed; a cap would have "
            f"blocked ${blocked:,.2f}."
        )
    if len(runway):
        worst = runway.sort_values("hours_to_exhaustion").iloc[0]
        findings.append(
            f"At the current burn, {worst[by]} exhausts its budget in "
            f"{worst['hours_to_exhaustion']:,.1f} hours."
        )
    comparison = [
        (
            "When an overrun is noticed",
            "month-end invoice",
            f"{warn_hours:,.0f} h earlier (threshold alert)" if len(over) else "threshold alert",
            "text",
        ),
        ("Spend above budget (with a cap at 100%)", blocked, 0.0, "usd"),
        ("Anomalies flagged while they happen", 0.0, float(len(alerts)), "count"),
        ("Budget runway per customer", "unknown", float(len(status)), "count"),
    ]
    value = ReveniumValue(
        metadata=(by, "timestamp", "cost_usd", "subscription_tier"),
        enables="per-customer spend seconds after each call, so a spike or a budget crossing "
        "raises an alert within one bucket and a limit can be applied per customer",
        without="wait for the provider invoice or a daily billing export (hours to a month "
        "late), aggregated per API key, with no way to cap one customer",
    )
    story = Story(
        problem="A customer's usage can jump overnight; on a monthly invoice the overrun is "
        "found weeks later and paid in full.",
        solution="Metered calls arrive tagged with the customer; a detector compares each "
        "customer's recent spend with its own baseline, budgets raise 50/80/100% "
        "alerts, and the burn rate says how long the budget will last.",
        steps=(
            Step(
                "Detect anomalies",
                "Compare each customer's daily spend with its baseline.",
                "from showcase_lib.analysis import anomalies\n"
                "found = anomalies.detect(calls, anomalies.DetectorConfig(window=14))",
            ),
            Step(
                "Watch budgets and burn",
                "Alert at 50/80/100% and forecast the runway.",
                "status = budget_status(calls, budgets)  # hours_to_exhaustion per customer",
            ),
            Step(
                "Enforce a budget",
                "Rate-limit or cap a customer when an alert fires.",
                "served = token_bucket(demand, rate=baseline * 2, capacity=baseline * 6,\n"
                "                      start=alert_index)",
            ),
        ),
    )
    return build_result(
        RealtimeResult,
        name="realtime",
        title="Real-time cost monitoring",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={"anomalies": alerts, "budgets": status},
        revenium_value=value,
        story=story,
        parameters={"freq": freq, "by": by, "share_of_fee": share_of_fee, **settings},
    )
