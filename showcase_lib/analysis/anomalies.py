"""Anomaly detection on AI spend: scores, spikes, behaviour changes, alerts, per-call outliers,
and AWS-Cost-Anomaly-Detection-style reports (window, expected vs actual, $ impact, root causes).

Per-entity detection is vectorised: cost is pivoted into a (periods x entities) matrix
(:func:`cost_matrix`) and every score is computed on the whole matrix at once.

Scores (each looks only at the past: the window excludes the current point):

* rolling z-score ``(x - mean) / std`` of the previous ``window`` periods;
* robust (modified) z-score ``0.6745 (x - median) / MAD`` of the previous ``window`` periods
  (Iglewicz and Hoaglin; flag above 3.5);
* CUSUM of clipped robust scores for a *new normal* (a sustained shift) rather than one spike,
  in closed form ``S_t = C_t - min(0, min_{s<=t} C_s)`` with ``C`` the cumulative sum of
  ``min(z, clip) - k``.

Example:
    >>> import numpy as np, pandas as pd
    >>> idx = pd.date_range("2026-01-01", periods=20, tz="UTC")
    >>> m = pd.DataFrame({"c1": 10 + np.tile([0.0, 1.0], 10)}, index=idx)
    >>> m.iloc[15, 0] = 100.0                       # one spike on day 16
    >>> spikes = detect_spikes(m, window=10, min_periods=5)
    >>> spikes["period"].dt.strftime("%m-%d").tolist(), spikes["entity"].tolist()
    (['01-16'], ['c1'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from showcase_lib.analysis.timeseries import PANDAS_FREQ, canonical_freq, period_keys

__all__ = [
    "anomaly_report",
    "behaviour_changes",
    "budget_alerts",
    "cost_matrix",
    "cost_outliers",
    "cusum",
    "detect",
    "detect_spikes",
    "established",
    "expected_band",
    "flag_spikes",
    "robust_zscore",
    "rolling_zscore",
    "root_causes",
    "shift_scores",
    "threshold_alerts",
]

#: 0.6745 = the 0.75 quantile of the standard normal: makes MAD comparable to a std.
MAD_CONSTANT = 0.6745
#: When MAD is 0 (over half the window identical), Iglewicz-Hoaglin use 1.253314 * mean AD.
MEANAD_CONSTANT = 1.253314
TOTAL = "total"


# --------------------------------------------------------------------------- matrices
def cost_matrix(
    df: pd.DataFrame,
    by: str | None = "customer_id",
    freq: str = "day",
    *,
    metric: str = "cost_usd",
    start=None,
    end=None,
) -> pd.DataFrame:
    """Pivot calls into a (periods x entities) matrix of summed ``metric``, zero-filled.

    Rows are every period of the UTC calendar from ``start`` (default: the first call) to
    ``end`` (exclusive; default: after the last call); columns are the values of ``by`` (or a
    single ``"total"`` column when ``by`` is None). ``metric="calls"`` counts calls.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-03"], utc=True),
        ...                       "customer_id": ["a", "b"], "cost_usd": [1.0, 2.0]})
        >>> cost_matrix(calls).values.tolist()
        [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]
    """
    f = canonical_freq(freq)
    need = ["timestamp"] + ([metric] if metric != "calls" else []) + ([by] if by else [])
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame (have {list(df.columns)})")
    keys = period_keys(df["timestamp"], f)
    values = np.ones(len(df)) if metric == "calls" else df[metric].to_numpy(dtype=float)
    entity = df[by].to_numpy() if by else np.full(len(df), TOTAL, dtype=object)
    if by and isinstance(df[by].dtype, pd.CategoricalDtype):
        entity = df[by].values
    s = pd.Series(values).groupby([keys, entity], observed=True, sort=True).sum()
    mat = s.unstack(fill_value=0.0) if len(s) else pd.DataFrame(dtype=float)
    mat.index = pd.DatetimeIndex(mat.index).tz_localize("UTC")
    if start is None and len(mat):
        start = mat.index[0]
    if end is None and len(mat):
        end = mat.index[-1] + pd.tseries.frequencies.to_offset(PANDAS_FREQ[f])
    if start is not None:
        cal = pd.date_range(_utc(start), _utc(end), freq=PANDAS_FREQ[f], inclusive="left")
        mat = mat.reindex(cal, fill_value=0.0)
    mat.index.name = "period"
    mat.columns = pd.Index([str(c) for c in mat.columns], name=by or "entity")
    return mat.astype(float)


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _as_frame(x: pd.Series | pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    if isinstance(x, pd.Series):
        return x.to_frame(x.name if x.name is not None else TOTAL), True
    return x, False


def _back(frame: pd.DataFrame, was_series: bool):
    return frame.iloc[:, 0] if was_series else frame


# --------------------------------------------------------------------------- scores
def rolling_zscore(
    x: pd.Series | pd.DataFrame, window: int = 14, *, min_periods: int = 7, min_std: float = 0.0
) -> pd.Series | pd.DataFrame:
    """z-score of each point against the mean and std of the previous ``window`` points
    (the current point is excluded, so a spike cannot hide itself). NaN until ``min_periods``
    points of history exist, and where the std is not above ``min_std``.

    Example:
        >>> s = pd.Series([10.0, 12.0, 10.0, 12.0, 30.0])
        >>> round(float(rolling_zscore(s, 4, min_periods=4).iloc[-1]), 2)   # (30 - 11) / 1.155
        16.45
    """
    frame, was_series = _as_frame(x)
    past = frame.shift(1).rolling(window, min_periods=min_periods)
    mean, std = past.mean(), past.std(ddof=1)
    z = (frame - mean) / std.where(std > min_std)
    return _back(z, was_series)


def _trailing_windows(values: np.ndarray, window: int) -> np.ndarray:
    """(T, C) -> (T, C, window) views of the previous ``window`` rows (NaN-padded)."""
    t, c = values.shape
    padded = np.vstack([np.full((window, c), np.nan), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (T+1, C, window)
    return view[:t]


def _robust_center_scale(values: np.ndarray, window: int | None, min_periods: int):
    """Trailing (or global) median and MAD-based scale; scale falls back to mean AD."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows at the start
        if window is None:
            med = np.nanmedian(values, axis=0, keepdims=True)
            dev = np.abs(values - med)
            mad = np.nanmedian(dev, axis=0, keepdims=True)
            meanad = np.nanmean(dev, axis=0, keepdims=True)
            count = np.sum(~np.isnan(values), axis=0, keepdims=True)
            med, mad, meanad, count = (
                np.broadcast_to(a, values.shape) for a in (med, mad, meanad, count)
            )
        else:
            win = _trailing_windows(values, window)
            med = np.nanmedian(win, axis=2)
            dev = np.abs(win - med[..., None])
            mad = np.nanmedian(dev, axis=2)
            meanad = np.nanmean(dev, axis=2)
            count = np.sum(~np.isnan(win), axis=2)
    scale = np.where(mad > 0, mad / MAD_CONSTANT, MEANAD_CONSTANT * meanad)
    med = np.where(count >= min_periods, med, np.nan)
    return med, scale


def robust_zscore(
    x: pd.Series | pd.DataFrame,
    window: int | None = 14,
    *,
    min_periods: int = 7,
    min_scale: float = 0.0,
) -> pd.Series | pd.DataFrame:
    """Modified z-score ``0.6745 (x - median) / MAD`` against the previous ``window`` points
    (``window=None``: the whole column, current point included, as in the textbook test).

    When MAD is 0 the mean absolute deviation is used (``(x - median) / (1.253314 meanAD)``);
    ``min_scale`` floors the scale (in the unit of ``x``) so near-constant series do not turn
    every cent into an alert.

    Example:
        >>> s = pd.Series([10.0, 11.0, 9.0, 10.0, 11.0, 9.0, 10.0, 40.0])
        >>> round(float(robust_zscore(s, 7, min_periods=7).iloc[-1]), 2)
        20.23
        >>> round(float(robust_zscore(s, None).iloc[-1]), 2)
        20.23
    """
    frame, was_series = _as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, scale = _robust_center_scale(values, window, min_periods)
    scale = np.maximum(scale, min_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (values - med) / scale, np.nan)
    return _back(pd.DataFrame(z, index=frame.index, columns=frame.columns), was_series)


def expected_band(
    x: pd.Series,
    window: int = 14,
    *,
    threshold: float = 3.5,
    min_periods: int = 7,
    min_scale: float = 0.0,
) -> pd.DataFrame:
    """Snowflake-style daily view of one series: ``actual, expected, lower, upper, score,
    is_anomaly`` where expected is the trailing median and the band is
    ``expected +/- threshold * MAD / 0.6745``.

    Example:
        >>> s = pd.Series([10.0, 11.0, 9.0, 10.0, 11.0, 9.0, 10.0, 40.0])
        >>> expected_band(s, 7, min_periods=7)["is_anomaly"].tolist()[-2:]
        [False, True]
    """
    values = x.to_numpy(dtype=float)[:, None]
    med, scale = _robust_center_scale(values, window, min_periods)
    scale = np.maximum(scale, min_scale)[:, 0]
    med = med[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, (values[:, 0] - med) / scale, np.nan)
    out = pd.DataFrame(
        {
            "actual": values[:, 0],
            "expected": med,
            "lower": med - threshold * scale,
            "upper": med + threshold * scale,
            "score": score,
        },
        index=x.index,
    )
    out["lower"] = out["lower"].clip(lower=0)
    out["is_anomaly"] = out["score"] > threshold
    return out


def shift_scores(
    x: pd.Series | pd.DataFrame, window: int = 14, *, min_periods: int = 7, min_scale: float = 0.0
) -> pd.Series | pd.DataFrame:
    """The scores :func:`behaviour_changes` accumulates: the trailing robust z-score, with 0
    before a baseline exists and +inf for a rise over a perfectly flat history (the CUSUM clips
    it).

    Example:
        >>> shift_scores(pd.Series([1.0, 1.0, 1.0, 5.0]), 3, min_periods=3).tolist()
        [0.0, 0.0, 0.0, inf]
    """
    frame, was_series = _as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, scale = _robust_center_scale(values, window, min_periods)
    scale = np.maximum(scale, min_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (values - med) / scale, np.where(values > med, np.inf, 0.0))
    z = np.where(np.isnan(med), 0.0, z)
    return _back(pd.DataFrame(z, index=frame.index, columns=frame.columns), was_series)


def cusum(
    z: pd.Series | pd.DataFrame | np.ndarray,
    *,
    k: float = 0.5,
    clip: float | None = 3.0,
) -> pd.Series | pd.DataFrame | np.ndarray:
    """Upper one-sided CUSUM of standardised values, vectorised over columns.

    ``S_t = max(0, S_{t-1} + min(z_t, clip) - k)`` computed in closed form as
    ``C_t - min(0, min_{s<=t} C_s)`` with ``C = cumsum(min(z, clip) - k)``. NaN counts as 0.
    Clipping bounds what a single spike can add, so only a *sustained* shift crosses a
    threshold ``h`` larger than ``clip - k``.

    Example:
        >>> cusum(np.array([0.0, 5.0, 0.0, 0.0, 2.0, 2.0, 2.0]), k=0.5, clip=3.0).tolist()
        [0.0, 2.5, 2.0, 1.5, 3.0, 4.5, 6.0]
    """
    arr = np.asarray(z, dtype=float)
    one_d = arr.ndim == 1
    a = arr[:, None] if one_d else arr
    inc = np.nan_to_num(a, nan=0.0, posinf=clip if clip else 0.0)
    if clip is not None:
        inc = np.minimum(inc, clip)
    c = np.cumsum(inc - k, axis=0)
    s = c - np.minimum(np.minimum.accumulate(c, axis=0), 0.0)
    s = s[:, 0] if one_d else s
    if isinstance(z, pd.DataFrame):
        return pd.DataFrame(s, index=z.index, columns=z.columns)
    if isinstance(z, pd.Series):
        return pd.Series(s, index=z.index, name=z.name)
    return s


# --------------------------------------------------------------------------- detectors
def _long(mask: np.ndarray, frame: pd.DataFrame, **cols: np.ndarray) -> pd.DataFrame:
    ti, ci = np.nonzero(mask)
    out = pd.DataFrame({"period": frame.index[ti], "entity": frame.columns[ci].astype(str)})
    for name, arr in cols.items():
        out[name] = arr[ti, ci]
    return out.sort_values(["period", "entity"], kind="mergesort").reset_index(drop=True)


def established(
    x: pd.Series | pd.DataFrame,
    window: int = 14,
    *,
    min_periods: int = 7,
) -> pd.Series | pd.DataFrame:
    """True where every one of the previous ``window`` periods (at least ``min_periods`` of
    them) had spend: the entity has a history to be judged against. A customer who signed up
    last week, or who is idle most days, is not scored (its "normal" is unknown).

    Example:
        >>> established(pd.Series([0.0, 1, 1, 1, 1]), 3, min_periods=3).tolist()
        [False, False, False, False, True]
    """
    frame, was_series = _as_frame(x)
    past = frame.shift(1).rolling(window, min_periods=min_periods)
    ok = (past.min() > 0) & past.count().ge(min_periods)
    return _back(ok.fillna(False).astype(bool), was_series)


def _spike_arrays(values: np.ndarray, expected: np.ndarray, scale: np.ndarray):
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(
            scale > 0, (values - expected) / scale, np.where(values > expected, np.inf, np.nan)
        )
        ratio = np.where(expected > 0, values / expected, np.where(values > 0, np.inf, np.nan))
    return score, ratio


def detect_spikes(
    x: pd.Series | pd.DataFrame,
    *,
    method: str = "robust",
    threshold: float = 3.5,
    window: int = 14,
    min_periods: int = 7,
    min_ratio: float = 1.5,
    min_abs: float = 0.0,
    min_scale: float = 0.0,
    require_history: bool = False,
) -> pd.DataFrame:
    """Upward spikes: points whose score beats ``threshold`` AND whose value is at least
    ``min_ratio`` x expected AND at least ``min_abs`` above it (the three-part rule of
    production detectors: statistical, relative and material).

    ``method`` is ``"robust"`` (modified z against the trailing median/MAD) or ``"zscore"``
    (against the trailing mean/std). With ``require_history`` only :func:`established`
    points are scored. Returns one row per flagged (period, entity) with
    ``actual, expected, score, ratio``.

    Example:
        >>> s = pd.Series([10.0, 11, 9, 10, 11, 9, 10, 60, 10], name="spend",
        ...               index=pd.date_range("2026-01-01", periods=9, tz="UTC"))
        >>> detect_spikes(s, window=7, min_periods=7)[["actual", "expected", "ratio"]].values.tolist()
        [[60.0, 10.0, 6.0]]
    """
    frame, _ = _as_frame(x)
    values = frame.to_numpy(dtype=float)
    if method == "robust":
        expected, scale = _robust_center_scale(values, window, min_periods)
        scale = np.maximum(scale, min_scale)
    elif method == "zscore":
        past = frame.shift(1).rolling(window, min_periods=min_periods)
        expected = past.mean().to_numpy()
        scale = np.maximum(past.std(ddof=1).to_numpy(), min_scale)
    else:
        raise ValueError(f"method={method!r} is not one of 'robust', 'zscore'")
    score, ratio = _spike_arrays(values, expected, scale)
    mask = (score > threshold) & (ratio >= min_ratio) & (values - expected >= min_abs)
    if require_history:
        mask &= established(frame, window, min_periods=min_periods).to_numpy()
    return _long(mask, frame, actual=values, expected=expected, score=score, ratio=ratio)


def behaviour_changes(
    x: pd.Series | pd.DataFrame,
    *,
    window: int = 14,
    min_periods: int = 7,
    k: float = 0.5,
    h: float = 8.0,
    clip: float = 3.0,
    min_ratio: float = 1.3,
    min_abs: float = 0.0,
    min_scale: float = 0.0,
) -> pd.DataFrame:
    """A *new normal*: a sustained upward shift, found by CUSUM of clipped robust scores.

    Each period is scored against the trailing median/MAD (:func:`shift_scores`), scores are
    clipped at ``clip`` (one spike adds at most ``clip - k``) and accumulated by :func:`cusum`;
    an alarm is the first period where ``S > h`` (with the defaults, four strongly elevated
    periods in a row, or more moderate ones). The onset is, after ``S`` was last 0, the first
    period scoring at least ``clip`` (a clear jump), else the first scoring at least ``2k``.
    The shift must be material: the median from onset to alarm is at least ``min_ratio`` x
    the baseline (the trailing median at onset) and ``min_abs`` above it. One row per alarm
    (per entity, the first crossing of each excursion) with ``onset, period (alarm), baseline,
    level, ratio, cusum``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=30, tz="UTC")
        >>> s = pd.Series(np.where(np.arange(30) < 20, 10.0, 20.0) + np.tile([0.0, 1.0], 15), index=idx)
        >>> bc = behaviour_changes(s)
        >>> bc["onset"].dt.strftime("%m-%d").tolist(), bool(bc["ratio"].iloc[0] > 1.8)
        (['01-21'], True)
    """
    frame, _ = _as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, _scale = _robust_center_scale(values, window, min_periods)
    z = shift_scores(frame, window, min_periods=min_periods, min_scale=min_scale).to_numpy()
    s = cusum(z, k=k, clip=clip)
    above = s > h
    first = above & ~np.vstack([np.zeros((1, above.shape[1]), bool), above[:-1]])
    rows = []
    t_idx = np.arange(len(frame))
    for ti, ci in zip(*np.nonzero(first), strict=True):
        zero_before = t_idx[:ti][s[:ti, ci] == 0]
        onset = int(zero_before[-1] + 1) if len(zero_before) else 0
        # skip noise that opened the run: the first clear jump (>= clip), else the first >= 2k
        run = z[onset : ti + 1, ci]
        strong = np.nonzero(run >= clip)[0] if clip is not None else np.array([], dtype=int)
        if not len(strong):
            strong = np.nonzero(run >= 2 * k)[0]
        onset += int(strong[0]) if len(strong) else 0
        baseline = med[onset, ci]
        level = float(np.median(values[onset : ti + 1, ci]))
        if np.isnan(baseline):
            continue
        ratio = level / baseline if baseline > 0 else np.inf
        if ratio >= min_ratio and level - baseline >= min_abs:
            rows.append(
                {
                    "onset": frame.index[onset],
                    "period": frame.index[ti],
                    "entity": str(frame.columns[ci]),
                    "baseline": float(baseline),
                    "level": level,
                    "ratio": float(ratio),
                    "cusum": float(s[ti, ci]),
                }
            )
    cols = ["onset", "period", "entity", "baseline", "level", "ratio", "cusum"]
    return pd.DataFrame(rows, columns=cols).sort_values(
        ["period", "entity"], kind="mergesort", ignore_index=True
    )


def threshold_alerts(
    x: pd.Series | pd.DataFrame,
    threshold: float | Mapping[str, float] | pd.Series,
) -> pd.DataFrame:
    """Periods where spend exceeds a fixed threshold (one number, or one per entity).

    Example:
        >>> m = pd.DataFrame({"a": [5.0, 50.0], "b": [20.0, 1.0]},
        ...                  index=pd.date_range("2026-01-01", periods=2, tz="UTC"))
        >>> threshold_alerts(m, {"a": 10.0, "b": 10.0})[["entity", "actual"]].values.tolist()
        [['b', 20.0], ['a', 50.0]]
    """
    frame, _ = _as_frame(x)
    if isinstance(threshold, Mapping | pd.Series):
        thr = pd.Series(threshold, dtype=float).reindex(frame.columns.astype(str))
        missing = thr[thr.isna()].index.tolist()
        if missing:
            raise ValueError(f"threshold has no value for entities {missing[:5]}")
        t = np.broadcast_to(thr.to_numpy(), frame.shape)
    else:
        t = np.full(frame.shape, float(threshold))
    values = frame.to_numpy(dtype=float)
    return _long(values > t, frame, actual=values, threshold=t, excess=values - t)


def budget_alerts(
    df: pd.DataFrame,
    budgets: float | Mapping[str, float] | pd.Series,
    *,
    by: str | None = "customer_id",
    levels: Sequence[float] = (0.5, 0.8, 1.0),
    freq: str = "month",
) -> pd.DataFrame:
    """When each entity's period-to-date spend first crossed each share of its budget
    (AWS Budgets style: 50%, 80%, 100%). ``budgets`` is one amount for all or one per entity.

    Returns one row per crossing: ``entity, period, level, budget, crossed_at`` (timestamp of
    the call that crossed; ties broken by ``call_id`` when present) and ``spend_at_crossing``.
    Daily totals find the crossing day first, so only that day's calls are sorted.

    Example:
        >>> calls = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC"),
        ...                       "customer_id": ["a"] * 4, "cost_usd": [3.0, 3.0, 3.0, 3.0]})
        >>> t = budget_alerts(calls, 10.0)
        >>> t[["level", "spend_at_crossing"]].values.tolist()
        [[0.5, 6.0], [0.8, 9.0], [1.0, 12.0]]
    """
    f = canonical_freq(freq)
    cols = ["timestamp", "cost_usd"] + ([by] if by else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame")
    if isinstance(budgets, Mapping | pd.Series):
        b = pd.Series(budgets, dtype=float)
        b.index = b.index.astype(str)
        if (b <= 0).any():
            raise ValueError(f"budgets for {b[b <= 0].index.tolist()[:5]} must be positive")
    else:
        if float(budgets) <= 0:
            raise ValueError(f"budgets={budgets} must be positive")
        b = None
    # integer codes throughout (10M strings would dominate the time)
    if by:
        col = df[by] if isinstance(df[by].dtype, pd.CategoricalDtype) else df[by].astype("category")
        codes = col.cat.codes.to_numpy(dtype=np.int64)
        names = np.asarray(col.cat.categories.astype(str), dtype=object)
    else:
        codes, names = np.zeros(len(df), dtype=np.int64), np.array([TOTAL], dtype=object)
    day = period_keys(df["timestamp"], "day").astype("datetime64[D]").astype(np.int64)  # day number
    period = period_keys(df["timestamp"], f).astype(np.int64)
    cost = df["cost_usd"].to_numpy(dtype=float)
    # step 1: daily totals find the day of each crossing (small), ...
    daily = pd.DataFrame({"code": codes, "period": period, "day": day, "cost": cost})
    daily = daily.groupby(["code", "period", "day"], sort=True)["cost"].sum().reset_index()
    daily["cum_day"] = daily.groupby(["code", "period"], sort=False)["cost"].cumsum()
    entity_names = pd.Series(names[daily["code"].to_numpy()], index=daily.index)
    daily["budget"] = entity_names.map(b) if b is not None else float(budgets)
    daily = daily[daily["budget"].notna()]
    crossings = []
    for level in levels:
        hit = daily[daily["cum_day"] >= level * daily["budget"]]
        first = hit.groupby(["code", "period"], sort=True).head(1)
        crossings.append(first.assign(level=float(level), before=first["cum_day"] - first["cost"]))
    cols_out = ["entity", "period", "level", "budget", "crossed_at", "spend_at_crossing"]
    cross = pd.concat(crossings, ignore_index=True) if crossings else pd.DataFrame()
    if cross.empty:
        return pd.DataFrame(columns=cols_out)
    # ... step 2: a running total over those days' calls only finds the call
    key = codes * 10_000_000 + day  # day numbers stay below 10^7 until the year 29,000
    wanted = np.unique(cross["code"].to_numpy() * 10_000_000 + cross["day"].to_numpy())
    mask = np.isin(key, wanted)
    calls = pd.DataFrame(
        {
            "code": codes[mask],
            "day": day[mask],
            "timestamp": df["timestamp"].to_numpy(dtype="datetime64[ns]")[mask],
            "cost": cost[mask],
        }
    )
    order = ["code", "day", "timestamp"]
    if "call_id" in df.columns:  # the same tie-break as the SQL version
        calls["call_id"] = df["call_id"].to_numpy()[mask]
        order.append("call_id")
    calls = calls.sort_values(order, kind="mergesort")
    calls["within"] = calls.groupby(["code", "day"], sort=False)["cost"].cumsum()
    merged = calls.merge(
        cross[["code", "day", "period", "level", "budget", "before"]], on=["code", "day"]
    )
    merged["cum"] = merged["before"] + merged["within"]
    hit = merged[merged["cum"] >= merged["level"] * merged["budget"]]
    first = hit.groupby(["code", "period", "level"], sort=True).head(1)
    stamps = pd.DatetimeIndex(first["timestamp"])
    out = pd.DataFrame(
        {
            "entity": names[first["code"].to_numpy()],
            "period": pd.DatetimeIndex(
                first["period"].to_numpy().astype("datetime64[ns]")
            ).tz_localize("UTC"),
            "level": first["level"].to_numpy(),
            "budget": first["budget"].to_numpy(),
            "crossed_at": stamps.tz_localize("UTC") if stamps.tz is None else stamps,
            "spend_at_crossing": first["cum"].to_numpy(),
        }
    )
    return out.sort_values(["entity", "period", "level"], kind="mergesort", ignore_index=True)


def cost_outliers(
    df: pd.DataFrame,
    by: str | Sequence[str] = ("model", "task_type"),
    *,
    threshold: float = 3.5,
    log: bool = True,
    min_group: int = 20,
) -> pd.DataFrame:
    """Single calls that cost far more than calls of their kind (same ``by`` values).

    Scores each call with the modified z-score of ``log(cost)`` within its group (costs are
    log-normal-ish; a 10x call is an outlier whatever the model's price) and returns the calls
    above ``threshold``, highest score first, with ``group_median_cost``, ``score`` and
    ``cost_ratio`` (cost / group median). Groups smaller than ``min_group`` are skipped.

    Example:
        >>> calls = pd.DataFrame({"model": ["m"] * 30, "task_type": ["chat"] * 30,
        ...                       "cost_usd": [0.01 * (1 + (i % 3) / 10) for i in range(29)] + [0.5]})
        >>> cost_outliers(calls)["cost_usd"].tolist()
        [0.5]
    """
    dims = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*dims, "cost_usd"] if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are missing from the frame")
    cost = df["cost_usd"].to_numpy(dtype=float)
    with np.errstate(divide="ignore"):
        v = pd.Series(np.log(np.where(cost > 0, cost, np.nan)) if log else cost, index=df.index)
    g = v.groupby([df[d] for d in dims], observed=True)
    med = g.transform("median")
    dev = (v - med).abs()
    dg = dev.groupby([df[d] for d in dims], observed=True)
    mad = dg.transform("median")
    meanad = dg.transform("mean")
    size = g.transform("size")
    scale = np.where(mad > 0, mad / MAD_CONSTANT, MEANAD_CONSTANT * meanad)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, (v - med) / scale, np.nan)
    mask = (score > threshold) & (size >= min_group)
    out = df.loc[mask].copy()
    gm = np.exp(med[mask]) if log else med[mask]
    out["group_median_cost"] = gm.to_numpy()
    out["score"] = score[mask.to_numpy()]
    out["cost_ratio"] = out["cost_usd"] / out["group_median_cost"]
    return out.sort_values("score", ascending=False, kind="mergesort")


# --------------------------------------------------------------------------- reports
def _windows(flags: pd.DataFrame, step: pd.Timedelta, gap: int) -> pd.DataFrame:
    """Merge flagged (entity, start, last) rows into windows; flags ``gap`` periods apart join.

    A CUSUM flag may start (at its onset) before an earlier flag ends, so windows are merged
    on a running maximum of their ends. The loop is over flags (few), not over calls.
    """
    f = flags.sort_values(["entity", "start"], kind="mergesort").reset_index(drop=True)
    starts, lasts, ents = f["start"].to_numpy(), f["last"].to_numpy(), f["entity"].to_numpy()
    ids = np.empty(len(f), dtype=np.int64)
    max_gap = np.timedelta64(int(step.value * (gap + 1)), "ns")
    wid, cur_entity, cur_end = -1, None, None
    for i in range(len(f)):
        if ents[i] != cur_entity or starts[i] - cur_end > max_gap:
            wid += 1
            cur_entity, cur_end = ents[i], lasts[i]
        else:
            cur_end = max(cur_end, lasts[i])
        ids[i] = wid
    f["wid"] = ids
    return (
        f.groupby("wid")
        .agg(
            entity=("entity", "first"),
            start=("start", "min"),
            last=("last", "max"),
            first_flag=("flag_time", "min"),
            kinds=("kind", lambda k: ",".join(sorted(set(k)))),
            score=("score", "max"),
        )
        .reset_index(drop=True)
    )


_STEP = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(days=7)}


def flag_spikes(
    df: pd.DataFrame,
    *,
    by: str | None = "customer_id",
    freq: str = "day",
    window: int = 14,
    min_periods: int = 7,
    threshold: float = 3.5,
    min_ratio: float = 5.0,
    min_abs: float = 2.0,
    confirm: str | None = "calls",
    require_history: bool = True,
) -> pd.DataFrame:
    """The spike rule of :func:`detect`, one row per flagged (period, entity).

    A period is flagged when its spend beats the trailing median by ``threshold`` robust
    z-scores AND is ``min_ratio`` x the median AND ``min_abs`` dollars above it; with
    ``confirm="calls"`` its call count must also beat its own trailing median by ``threshold``
    robust z-scores and ``min_ratio`` x (so one expensive call, a job for
    :func:`cost_outliers`, does not page anyone); with ``require_history`` only
    :func:`established` entities are judged. Columns: ``period, entity, actual, expected,
    score, ratio`` and, when confirming, ``calls, expected_calls, calls_score, calls_ratio``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=20, freq="D", tz="UTC")
        >>> calls = pd.DataFrame({"timestamp": idx.repeat(10), "customer_id": "a",
        ...                       "cost_usd": 1.0 + 0.1 * (np.arange(200) // 10 % 2)})
        >>> burst = calls.iloc[[150] * 90]                # day 16: 100 calls instead of 10
        >>> flag_spikes(pd.concat([calls, burst]))[["entity", "calls", "expected_calls"]].values.tolist()
        [['a', 100.0, 10.0]]
    """
    f = canonical_freq(freq)
    if confirm not in (None, "calls"):
        raise ValueError(f"confirm={confirm!r} is not one of None, 'calls'")
    mat = cost_matrix(df, by, f)
    values = mat.to_numpy(dtype=float)
    med, scale = _robust_center_scale(values, window, min_periods)
    score, ratio = _spike_arrays(values, med, scale)
    mask = (score > threshold) & (ratio >= min_ratio) & (values - med >= min_abs)
    if require_history:
        mask &= established(mat, window, min_periods=min_periods).to_numpy()
    extra: dict[str, np.ndarray] = {}
    if confirm:
        cm = cost_matrix(df, by, f, metric="calls").reindex(
            index=mat.index, columns=mat.columns, fill_value=0.0
        )
        cv = cm.to_numpy(dtype=float)
        cmed, cscale = _robust_center_scale(cv, window, min_periods)
        cscore, cratio = _spike_arrays(cv, cmed, cscale)
        mask &= (cscore > threshold) & (cratio >= min_ratio)
        extra = {"calls": cv, "expected_calls": cmed, "calls_score": cscore, "calls_ratio": cratio}
    return _long(mask, mat, actual=values, expected=med, score=score, ratio=ratio, **extra)


def detect(
    df: pd.DataFrame,
    *,
    by: str | None = "customer_id",
    freq: str = "day",
    window: int = 14,
    min_periods: int = 7,
    threshold: float = 3.5,
    min_ratio: float = 5.0,
    min_abs: float = 2.0,
    confirm: str | None = "calls",
    require_history: bool = True,
    shifts: bool = True,
    cusum_h: float = 8.0,
    cusum_k: float = 0.5,
    shift_ratio: float = 1.5,
    persist: int = 3,
    gap: int = 1,
    extend: bool = True,
    dimensions: Sequence[str] = ("customer_id", "model", "feature_id"),
) -> pd.DataFrame:
    """Detect spend anomalies per entity and report them the way AWS Cost Anomaly Detection
    does: one row per anomaly window.

    A period of an entity is flagged by

    * the **spike** rule (:func:`flag_spikes`): spend ``threshold`` robust z-scores AND
      ``min_ratio`` x AND ``min_abs`` dollars above the trailing median, confirmed by the call
      count (``confirm="calls"``), for :func:`established` entities; or
    * the **behaviour change** rule (``shifts``, :func:`behaviour_changes`): the CUSUM of the
      clipped robust spend scores crosses ``cusum_h`` and the level since the onset is
      ``shift_ratio`` x the baseline in spend (and calls, when confirming) and ``min_abs``
      above it.

    Flags of one entity at most ``gap`` periods apart form a window, ``extend``ed while spend
    stays ``shift_ratio`` x above the baseline. A window of ``persist`` periods or more (or found
    by CUSUM) is a ``behaviour_change`` (a new normal), a shorter one a ``spike``.

    Columns: ``anomaly_id, entity, kind, start, end`` (exclusive), ``detected_at`` (end of the
    first flagged period: when the alert could fire), ``periods, expected`` (baseline median
    x periods), ``actual, impact_usd, impact_pct, score, top_root_cause``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")
        >>> calls = pd.DataFrame({"timestamp": idx.repeat(20), "customer_id": "a", "model": "m",
        ...                       "feature_id": "f", "cost_usd": 0.5 + 0.01 * (np.arange(600) // 20 % 2)})
        >>> burst = calls.iloc[[400] * 200]                # day 21: 200 more calls at $0.50
        >>> a = detect(pd.concat([calls, burst], ignore_index=True))
        >>> a[["entity", "kind", "periods", "expected", "impact_usd"]].round(2).values.tolist()
        [['a', 'spike', 1, 10.1, 99.9]]
    """
    f = canonical_freq(freq)
    if f not in _STEP:
        raise ValueError(f"freq={freq!r}: detection runs on hourly, daily or weekly periods")
    step = _STEP[f]
    spikes = flag_spikes(
        df,
        by=by,
        freq=f,
        window=window,
        min_periods=min_periods,
        threshold=threshold,
        min_ratio=min_ratio,
        min_abs=min_abs,
        confirm=confirm,
        require_history=require_history,
    )
    mat = cost_matrix(df, by, f)
    values = mat.to_numpy(dtype=float)
    med, _ = _robust_center_scale(values, window, min_periods)
    ok = (
        established(mat, window, min_periods=min_periods).to_numpy()
        if require_history
        else np.ones(values.shape, dtype=bool)
    )
    flags = [
        pd.DataFrame(
            {
                "entity": spikes["entity"],
                "start": spikes["period"],
                "last": spikes["period"],
                "flag_time": spikes["period"],
                "kind": "spike",
                "score": spikes["score"],
            }
        )
    ]
    if shifts:
        if confirm:
            cv = (
                cost_matrix(df, by, f, metric="calls")
                .reindex(index=mat.index, columns=mat.columns, fill_value=0.0)
                .to_numpy(dtype=float)
            )
            calls_med, _ = _robust_center_scale(cv, window, min_periods)
        bc = behaviour_changes(
            mat,
            window=window,
            min_periods=min_periods,
            k=cusum_k,
            h=cusum_h,
            min_ratio=shift_ratio,
            min_abs=min_abs,
        )
        if len(bc):
            pos = mat.index.get_indexer(bc["onset"])
            alarm = mat.index.get_indexer(bc["period"])
            col = mat.columns.get_indexer(bc["entity"])
            keep = ok[pos, col]
            if confirm:
                level = np.array(
                    [np.median(cv[p : q + 1, c]) for p, q, c in zip(pos, alarm, col, strict=True)]
                )
                base = calls_med[pos, col]
                with np.errstate(divide="ignore", invalid="ignore"):
                    keep &= np.where(base > 0, level / base, np.inf) >= shift_ratio
            bc = bc[keep]
            flags.append(
                pd.DataFrame(
                    {
                        "entity": bc["entity"],
                        "start": bc["onset"],
                        "last": bc["period"],
                        "flag_time": bc["period"],
                        "kind": "behaviour_change",
                        "score": bc["cusum"],
                    }
                )
            )
    flags = (
        pd.concat([x for x in flags if len(x)], ignore_index=True)
        if any(len(x) for x in flags)
        else pd.DataFrame()
    )
    cols = [
        "anomaly_id",
        "entity",
        "kind",
        "start",
        "end",
        "detected_at",
        "periods",
        "expected",
        "actual",
        "impact_usd",
        "impact_pct",
        "score",
        "top_root_cause",
    ]
    if flags.empty:
        return pd.DataFrame(columns=cols)
    win = _windows(flags, step, gap)
    pos = {p: i for i, p in enumerate(mat.index)}
    col = {str(c): j for j, c in enumerate(mat.columns)}
    rows = []
    for w in win.itertuples(index=False):  # one iteration per anomaly window (few)
        j, t0, t1 = col[w.entity], pos[w.start], pos[w.last]
        base = med[t0, j]
        if np.isnan(base):
            base = float(np.median(values[max(0, t0 - window) : t0, j])) if t0 else 0.0
        if extend:
            floor = max(shift_ratio * base, base + min_abs)
            while t1 + 1 < len(mat) and values[t1 + 1, j] >= floor:
                t1 += 1
        n = t1 - t0 + 1
        actual = float(values[t0 : t1 + 1, j].sum())
        expected = float(base) * n
        shift = "behaviour_change" in w.kinds or n >= persist
        rows.append(
            {
                "entity": w.entity,
                "kind": "behaviour_change" if shift else "spike",
                "start": mat.index[t0],
                "end": mat.index[t1] + step,
                "detected_at": w.first_flag + step,
                "periods": n,
                "expected": expected,
                "actual": actual,
                "impact_usd": actual - expected,
                "impact_pct": (actual - expected) / expected if expected > 0 else np.nan,
                "score": float(w.score),
            }
        )
    out = pd.DataFrame(rows).sort_values(["entity", "start"], kind="mergesort")
    # windows that grew into each other by extension: keep the first
    overlap = (out["entity"] == out["entity"].shift()) & (out["start"] < out["end"].shift())
    out = out[~overlap].sort_values(["detected_at", "entity"], kind="mergesort", ignore_index=True)
    out.insert(0, "anomaly_id", np.arange(1, len(out) + 1))
    out["top_root_cause"] = ""
    if dimensions:
        rc = root_causes(df, out, by=by, dimensions=dimensions, freq=f, baseline=window, top=1)
        if len(rc):
            best = rc.set_index("anomaly_id")
            label = (
                best["dimension"]
                + "="
                + best["value"].astype(str)
                + " ("
                + best["contribution"].map(lambda v: f"{v:+,.2f} USD")
                + ")"
            )
            out["top_root_cause"] = out["anomaly_id"].map(label).fillna("")
    return out[cols]


def root_causes(
    df: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    by: str | None = "customer_id",
    dimensions: Sequence[str] = ("customer_id", "model", "feature_id"),
    freq: str = "day",
    baseline: int = 14,
    top: int = 5,
) -> pd.DataFrame:
    """Rank the dimension values that drove each anomaly by their $ contribution.

    For an anomaly on ``entity`` over ``[start, end)``, the calls of that entity are split by
    each dimension; ``expected`` per value is its mean cost per period over the ``baseline``
    periods before ``start`` times the window's length, ``contribution = actual - expected``.
    Returns the ``top`` values per anomaly, largest contribution first, with
    ``contribution_share`` (of the anomaly's total impact).

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC")
        >>> calls = pd.DataFrame({"timestamp": idx.repeat(2), "customer_id": "a",
        ...                       "model": ["m1", "m2"] * 4, "cost_usd": [1.0, 1.0] * 3 + [1.0, 9.0]})
        >>> an = pd.DataFrame({"anomaly_id": [1], "entity": ["a"], "start": [idx[3]],
        ...                    "end": [idx[3] + pd.Timedelta(days=1)]})
        >>> root_causes(calls, an, dimensions=["model"], top=1)[["value", "contribution"]].values.tolist()
        [['m2', 8.0]]
    """
    f = canonical_freq(freq)
    if f not in _STEP:
        raise ValueError(f"freq={freq!r}: root causes use hourly, daily or weekly periods")
    step = _STEP[f]
    dims = [d for d in dimensions if d != by]
    missing = [d for d in dims if d not in df.columns]
    if missing:
        raise ValueError(f"dimensions {missing} are not columns of the frame")
    ts = df["timestamp"]
    data_start = ts.min().floor("h" if f == "hour" else "D") if len(df) else None
    parts = []
    for a in anomalies.itertuples(index=False):  # one pass per anomaly (few)
        n = max(1.0, (a.end - a.start) / step)
        b_start = max(a.start - baseline * step, data_start)
        base_periods = max(1.0, (a.start - b_start) / step)
        sel = ((ts >= b_start) & (ts < a.end)).to_numpy()
        if by:
            sel &= (df[by] == a.entity).to_numpy()
        sub = df.loc[sel]
        in_win = (sub["timestamp"] >= a.start).to_numpy()
        for d in dims:
            act = sub.loc[in_win].groupby(d, observed=True)["cost_usd"].sum()
            exp = sub.loc[~in_win].groupby(d, observed=True)["cost_usd"].sum() / base_periods * n
            t = pd.concat([act.rename("actual"), exp.rename("expected")], axis=1).fillna(0.0)
            t["contribution"] = t["actual"] - t["expected"]
            t = t.reset_index().rename(columns={d: "value"})
            t["value"] = t["value"].astype(str)
            t.insert(0, "dimension", d)
            t.insert(0, "anomaly_id", a.anomaly_id)
            parts.append(t)
    cols = [
        "anomaly_id",
        "dimension",
        "value",
        "actual",
        "expected",
        "contribution",
        "contribution_share",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    impact = anomalies.set_index("anomaly_id")
    total = (
        (impact["actual"] - impact["expected"])
        if {"actual", "expected"} <= set(impact.columns)
        else out.groupby("anomaly_id")["contribution"].sum()
    )
    out["contribution_share"] = out["contribution"] / out["anomaly_id"].map(total)
    out = out.sort_values(["anomaly_id", "contribution"], ascending=[True, False], kind="mergesort")
    return out.groupby("anomaly_id").head(top).reset_index(drop=True)[cols]


def anomaly_report(anomalies: pd.DataFrame) -> pd.DataFrame:
    """A display-ready copy of :func:`detect`'s result (rounded money, percent impact).

    Example:
        >>> anomaly_report(pd.DataFrame(columns=["anomaly_id", "entity", "kind", "start", "end",
        ...     "detected_at", "expected", "actual", "impact_usd", "impact_pct", "top_root_cause"])).empty
        True
    """
    out = anomalies.copy()
    for c in ("expected", "actual", "impact_usd"):
        if c in out:
            out[c] = out[c].astype(float).round(2)
    if "impact_pct" in out:
        out["impact_pct"] = (
            out["impact_pct"].astype(float).map(lambda v: f"{v:+,.0%}" if np.isfinite(v) else "n/a")
        )
    keep = [
        c
        for c in (
            "anomaly_id",
            "entity",
            "kind",
            "start",
            "end",
            "detected_at",
            "expected",
            "actual",
            "impact_usd",
            "impact_pct",
            "top_root_cause",
        )
        if c in out
    ]
    return out[keep]
