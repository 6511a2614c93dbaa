"""Detection: spike scores -> spike alerts, behaviour changes, AWS-style windows, root causes.

One path: :func:`spike_scores` scores every (period, entity) cell of the cost matrix (and the
call-count matrix when confirming), :func:`spike_alerts` turns scores into alerts with the
three-part rule, and :func:`detect` composes them with :func:`behaviour_changes` into anomaly
windows, pivoting the calls once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from showcase_lib.analysis._timeseries import bucket, canonical_freq

from ._config import DetectorConfig
from ._drivers import anomaly_drivers, driver_rows, require_kind_costs
from ._matrix import (
    as_frame,
    calls_matrix,
    cost_matrix,
    long_rows,
    matrices,
    ratio_matrix,
    requests_matrix,
)
from ._scores import cusum, established, robust_center_scale, shift_scores

#: Columns of :func:`spike_alerts` (plus the ``calls*`` ones when confirming).
_SPIKE_COLUMNS = ("period", "entity", "actual", "expected", "score", "ratio")
_CALL_COLUMNS = ("calls", "expected_calls", "calls_score", "calls_ratio")


def _step(freq: str) -> pd.Timedelta:
    """Length of one detection period: any fixed-width bucket (``"10min"``, ``"h"``, ``"D"``,
    ``"W"``); months (28 to 31 days) are refused, the windows and baselines count in steps."""
    width = bucket(freq).width
    if width is None:
        raise ValueError(
            f"freq={freq!r}: detection needs periods of one fixed length and months vary from "
            "28 to 31 days; use 'W' or 'D' (or aggregate by 'MS' to report, not to detect)"
        )
    return width


def _data_start(ts: pd.Series, step: pd.Timedelta) -> pd.Timestamp:
    """Start of the first period with data: its bucket below a day, its UTC day from a day on
    (a week's baseline counts whole days from the first call)."""
    return ts.min().floor(step if step < pd.Timedelta(days=1) else "D")


def _spike_arrays(values: np.ndarray, expected: np.ndarray, scale: np.ndarray):
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(
            scale > 0, (values - expected) / scale, np.where(values > expected, np.inf, np.nan)
        )
        ratio = np.where(expected > 0, values / expected, np.where(values > 0, np.inf, np.nan))
    return score, ratio


def spike_scores(
    costs: pd.Series | pd.DataFrame,
    *,
    calls: pd.DataFrame | None = None,
    config: DetectorConfig | None = None,
) -> pd.DataFrame:
    """Score every (period, entity) cell of a cost matrix against its trailing baseline.

    One row per cell with a baseline: ``period, entity, actual, expected`` (trailing median of
    ``config.window`` periods), ``score`` (robust z), ``ratio`` (actual / expected),
    ``established`` (the entity had spend in every baseline period) and, when the call-count
    matrix ``calls`` is given, ``calls, expected_calls, calls_score, calls_ratio``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=9, tz="UTC")
        >>> s = pd.Series([10.0, 11, 9, 10, 11, 9, 10, 60, 10], name="spend", index=idx)
        >>> sc = spike_scores(s, config=DetectorConfig(window=7, min_periods=7))
        >>> sc[["actual", "expected", "ratio"]].values.tolist()
        [[60.0, 10.0, 6.0], [10.0, 10.0, 1.0]]
    """
    cfg = config or DetectorConfig()
    frame, _ = as_frame(costs)
    values = frame.to_numpy(dtype=float)
    med, scale = robust_center_scale(values, cfg.window, cfg.min_periods)
    score, ratio = _spike_arrays(values, med, scale)
    ok = established(frame, cfg.window, min_periods=cfg.min_periods).to_numpy()
    cols = {"actual": values, "expected": med, "score": score, "ratio": ratio, "established": ok}
    if calls is not None:
        cv = calls.reindex(index=frame.index, columns=frame.columns, fill_value=0.0).to_numpy(
            dtype=float
        )
        cmed, cscale = robust_center_scale(cv, cfg.window, cfg.min_periods)
        cscore, cratio = _spike_arrays(cv, cmed, cscale)
        cols |= {"calls": cv, "expected_calls": cmed, "calls_score": cscore, "calls_ratio": cratio}
    return long_rows(~np.isnan(med), frame, **cols)


def spike_alerts(scores: pd.DataFrame, config: DetectorConfig | None = None) -> pd.DataFrame:
    """The spike rule on :func:`spike_scores`: one row per alerting (period, entity).

    A cell alerts when its robust score beats ``config.threshold`` AND it is
    ``config.min_ratio`` x expected AND ``config.min_abs`` above it (statistical, relative and
    material); with ``confirm="calls"`` its call count must also beat its own baseline by
    ``threshold`` and ``min_ratio`` (one expensive call, a job for :func:`cost_outliers`, pages
    no one); with ``require_history`` only established entities are judged.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=9, tz="UTC")
        >>> s = pd.Series([10.0, 11, 9, 10, 11, 9, 10, 60, 10], name="spend", index=idx)
        >>> cfg = DetectorConfig(window=7, min_periods=7, confirm=None)
        >>> spike_alerts(spike_scores(s, config=cfg), cfg)["period"].dt.day.tolist()
        [8]
    """
    cfg = config or DetectorConfig()
    t, r = cfg.threshold, cfg.min_ratio
    s = scores
    mask = (s["score"] > t) & (s["ratio"] >= r) & (s["actual"] - s["expected"] >= cfg.min_abs)
    cols = list(_SPIKE_COLUMNS)
    if cfg.confirm == "calls":
        if "calls_score" not in s.columns:
            raise ValueError(
                "config.confirm='calls' needs call scores: pass calls=<call-count matrix> to "
                "spike_scores, or use DetectorConfig(confirm=None)"
            )
        mask &= (s["calls_score"] > t) & (s["calls_ratio"] >= r)
        cols += _CALL_COLUMNS
    if cfg.require_history:
        mask &= s["established"]
    return s.loc[mask.to_numpy(), cols].reset_index(drop=True)


def behaviour_changes(
    x: pd.Series | pd.DataFrame, config: DetectorConfig | None = None
) -> pd.DataFrame:
    """A *new normal*: a sustained upward shift, found by CUSUM of clipped robust scores.

    Each period is scored against the trailing median/MAD (:func:`shift_scores`), scores are
    clipped at ``config.cusum_clip`` (one spike adds at most ``clip - k``) and accumulated by
    :func:`cusum`; an alarm is the first period where ``S > config.cusum_h`` (with the
    defaults, four strongly elevated periods in a row, or more moderate ones). The onset is,
    after ``S`` was last 0, the first period scoring at least ``clip`` (a clear jump), else the
    first scoring at least ``2k``. The shift must be material: the median from onset to alarm is
    at least ``config.shift_ratio`` x the baseline (the trailing median at onset) and
    ``config.min_abs`` above it. One row per alarm
    (per entity, the first crossing of each excursion) with ``onset, period (alarm), baseline,
    level, ratio, cusum``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=30, tz="UTC")
        >>> s = pd.Series(np.where(np.arange(30) < 20, 10.0, 20.0) + np.tile([0.0, 1.0], 15), index=idx)
        >>> bc = behaviour_changes(s, DetectorConfig(min_abs=0.0))
        >>> bc["onset"].dt.strftime("%m-%d").tolist(), bool(bc["ratio"].iloc[0] > 1.8)
        (['01-21'], True)
    """
    cfg = config or DetectorConfig()
    window, min_periods = cfg.window, cfg.min_periods
    k, h, clip = cfg.cusum_k, cfg.cusum_h, cfg.cusum_clip
    min_ratio, min_abs = cfg.shift_ratio, cfg.min_abs
    frame, _ = as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, _scale = robust_center_scale(values, window, min_periods)
    z = shift_scores(frame, window, min_periods=min_periods).to_numpy()
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


def _flags(mat: pd.DataFrame, cm: pd.DataFrame | None, ok: np.ndarray, cfg: DetectorConfig):
    """Spike and behaviour-change flags ``entity, start, last, flag_time, kind, score``."""
    spikes = spike_alerts(spike_scores(mat, calls=cm, config=cfg), cfg)
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
    if cfg.shifts:
        bc = behaviour_changes(mat, cfg)
        if len(bc):
            pos = mat.index.get_indexer(bc["onset"])
            alarm = mat.index.get_indexer(bc["period"])
            col = mat.columns.get_indexer(bc["entity"])
            keep = ok[pos, col]
            if cm is not None:
                cv = cm.to_numpy(dtype=float)
                calls_med, _ = robust_center_scale(cv, cfg.window, cfg.min_periods)
                level = np.array(
                    [np.median(cv[p : q + 1, c]) for p, q, c in zip(pos, alarm, col, strict=True)]
                )
                base = calls_med[pos, col]
                with np.errstate(divide="ignore", invalid="ignore"):
                    keep &= np.where(base > 0, level / base, np.inf) >= cfg.shift_ratio
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
    parts = [x for x in flags if len(x)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


#: Columns of :func:`detect`.
_DETECT_COLUMNS = [
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
    "driver",
    "top_root_cause",
]


def detect(calls: pd.DataFrame, config: DetectorConfig | None = None) -> pd.DataFrame:
    """Detect spend anomalies per entity and report them the way AWS Cost Anomaly Detection
    does: one row per anomaly window.

    The calls are pivoted once (cost and call-count matrices); a period of an entity is flagged
    by

    * the **spike** rule (:func:`spike_scores` then :func:`spike_alerts`): spend
      ``threshold`` robust z-scores AND ``min_ratio`` x AND ``min_abs`` dollars above the
      trailing median, confirmed by the call count, for established entities; or
    * the **behaviour change** rule (``shifts``, :func:`behaviour_changes`): the CUSUM of the
      clipped robust spend scores crosses ``cusum_h`` and the level since the onset is
      ``shift_ratio`` x the baseline in spend (and calls, when confirming) and ``min_abs``
      above it.

    With ``config.metric`` the same rules watch the call count (``"calls"``: a volume
    detector), the cost per call (``"cost_per_call"``: a jump at flat volume, such as a
    cache-miss regression) or the calls per request (``"calls_per_request"``: a retry storm);
    ``expected``, ``actual`` and the impact stay in dollars (expected = the baseline cost per
    call x the calls, the baseline calls x the baseline cost per call, or the window's cost per
    call x the requests at the baseline calls per request).

    Flags of one entity at most ``gap`` periods apart form a window, ``extend``ed while the
    metric stays ``shift_ratio`` x above the baseline. A window of ``persist`` periods or more
    (or found by CUSUM) is a ``behaviour_change`` (a new normal), a shorter one a ``spike``.

    Columns: ``anomaly_id, entity, kind, start, end`` (exclusive), ``detected_at`` (end of the
    first flagged period: when the alert could fire), ``periods, expected`` (baseline median
    x periods), ``actual, impact_usd, impact_pct, score``, ``driver`` (what moved: calls, input,
    cache_read, cache_write, output, reasoning or price, from :func:`drivers`; empty unless the
    calls carry the ``cost_<kind>`` columns) and ``top_root_cause``.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=30, freq="D", tz="UTC")
        >>> calls = pd.DataFrame({"timestamp": idx.repeat(20), "customer_id": "a", "model": "m",
        ...                       "feature_id": "f", "cost_usd": 0.5 + 0.01 * (np.arange(600) // 20 % 2)})
        >>> burst = calls.iloc[[400] * 200]                # day 21: 200 more calls at $0.50
        >>> a = detect(pd.concat([calls, burst], ignore_index=True))
        >>> a[["entity", "kind", "periods", "expected", "impact_usd"]].round(2).values.tolist()
        [['a', 'spike', 1, 10.1, 99.9]]
    """
    cfg = config or DetectorConfig()
    f = canonical_freq(cfg.freq)
    step = _step(f)
    window = cfg.window
    unit = cfg.metric in ("cost_per_call", "calls_per_request")  # ratios: min_abs in dollars
    rule_cfg = cfg
    if cfg.metric != "cost_usd":  # confirming by the call count is for spend only
        rule_cfg = dataclasses.replace(cfg, confirm=None, min_abs=0.0 if unit else cfg.min_abs)
    cm = None
    if cfg.metric == "cost_usd" and rule_cfg.confirm != "calls":
        mat = cost_matrix(calls, cfg.by, f)
    elif cfg.metric == "cost_usd":  # pivot once: spend and the call counts
        mat, cm = matrices(calls, cfg.by, f)
    else:  # pivot once: the metric and the dollars behind it
        cost_mat, count_mat = matrices(calls, cfg.by, f)
        costs, counts = cost_mat.to_numpy(), count_mat.to_numpy()
        if cfg.metric == "calls":
            mat = count_mat
        elif cfg.metric == "cost_per_call":
            mat = ratio_matrix(cost_mat, count_mat)
        else:
            req_mat = requests_matrix(calls, cost_mat, cfg.by, f)
            requests = req_mat.to_numpy()
            mat = ratio_matrix(count_mat, req_mat)
    if cm is None and rule_cfg.confirm == "calls":
        cm = calls_matrix(calls, mat, cfg.by, f)
    values = mat.to_numpy(dtype=float)
    med, _ = robust_center_scale(values, window, cfg.min_periods)
    ok = (
        established(mat, window, min_periods=cfg.min_periods).to_numpy()
        if cfg.require_history
        else np.ones(values.shape, dtype=bool)
    )
    flags = _flags(mat, cm, ok, rule_cfg)
    if flags.empty:
        return pd.DataFrame(columns=_DETECT_COLUMNS)
    win = _windows(flags, step, cfg.gap)
    pos = {p: i for i, p in enumerate(mat.index)}
    col = {str(c): j for j, c in enumerate(mat.columns)}
    rows = []
    for w in win.itertuples(index=False):  # one iteration per anomaly window (few)
        j, t0, t1 = col[w.entity], pos[w.start], pos[w.last]
        base = med[t0, j]
        if np.isnan(base):
            base = float(np.median(values[max(0, t0 - window) : t0, j])) if t0 else 0.0
        if cfg.extend:
            floor = max(cfg.shift_ratio * base, base + rule_cfg.min_abs)
            while t1 + 1 < len(mat) and values[t1 + 1, j] >= floor:
                t1 += 1
        n = t1 - t0 + 1
        if cfg.metric == "cost_usd":
            actual = float(values[t0 : t1 + 1, j].sum())
            expected = float(base) * n
        else:
            actual = float(costs[t0 : t1 + 1, j].sum())
            n_calls = float(counts[t0 : t1 + 1, j].sum())
            if cfg.metric == "cost_per_call":
                expected = float(base) * n_calls
            elif unit:  # calls per request: the same requests at the baseline retries
                n_req = float(requests[t0 : t1 + 1, j].sum())
                expected = actual * min(1.0, float(base) * n_req / n_calls) if n_calls else 0.0
            else:
                lo = max(0, t0 - window)
                before = float(counts[lo:t0, j].sum())
                per_call = float(costs[lo:t0, j].sum()) / before if before else 0.0
                expected = float(base) * n * per_call
        if unit and actual - expected < cfg.min_abs * n:
            continue  # not material: less than min_abs dollars per period
        shift = "behaviour_change" in w.kinds or n >= cfg.persist
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
    if not rows:
        return pd.DataFrame(columns=_DETECT_COLUMNS)
    out = pd.DataFrame(rows).sort_values(["entity", "start"], kind="mergesort")
    # windows that grew into each other by extension: keep the first
    overlap = (out["entity"] == out["entity"].shift()) & (out["start"] < out["end"].shift())
    out = out[~overlap].sort_values(["detected_at", "entity"], kind="mergesort", ignore_index=True)
    out.insert(0, "anomaly_id", np.arange(1, len(out) + 1))
    contrib = anomaly_drivers(calls, out, by=cfg.by, step=step, window=window)
    out["driver"] = out["anomaly_id"].map(contrib.set_index("anomaly_id")["driver"]).fillna("")
    out["top_root_cause"] = ""
    dims = [d for d in cfg.dimensions if d != "driver"]
    if dims:
        rc = root_causes(calls, out, dimensions=dims, config=cfg, top=1)
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
    return out[_DETECT_COLUMNS]


def root_causes(
    df: pd.DataFrame,
    anomalies: pd.DataFrame,
    *,
    dimensions: Sequence[str] | None = None,
    top: int = 5,
    config: DetectorConfig | None = None,
) -> pd.DataFrame:
    """Rank the dimension values that drove each anomaly by their $ contribution.

    For an anomaly on ``entity`` (a value of ``config.by``) over ``[start, end)``, the calls of
    that entity are split by each of ``dimensions`` (default ``config.dimensions``);
    ``expected`` per value is its mean cost per period over the ``config.window`` periods
    before ``start`` times the window's length, ``contribution = actual - expected``.
    Returns the ``top`` values per anomaly, largest contribution first, with
    ``contribution_share`` (of the anomaly's total impact).

    The pseudo-dimension ``"driver"`` ranks what moved the entity's cost against the same
    baseline (:func:`drivers`: ``calls``, ``input``, ``cache_read``, ``cache_write``,
    ``output``, ``reasoning``, ``price``; ``actual`` and ``expected`` are NaN on these rows);
    it needs the ``cost_<kind>`` columns.

    Example:
        >>> idx = pd.date_range("2026-01-01", periods=4, freq="D", tz="UTC")
        >>> calls = pd.DataFrame({"timestamp": idx.repeat(2), "customer_id": "a",
        ...                       "model": ["m1", "m2"] * 4, "cost_usd": [1.0, 1.0] * 3 + [1.0, 9.0]})
        >>> an = pd.DataFrame({"anomaly_id": [1], "entity": ["a"], "start": [idx[3]],
        ...                    "end": [idx[3] + pd.Timedelta(days=1)]})
        >>> root_causes(calls, an, dimensions=["model"], top=1)[["value", "contribution"]].values.tolist()
        [['m2', 8.0]]
    """
    cfg = config or DetectorConfig()
    f = canonical_freq(cfg.freq)
    step = _step(f)
    by, baseline = cfg.by, cfg.window
    asked = [d for d in (cfg.dimensions if dimensions is None else dimensions) if d != by]
    dims = [d for d in asked if d != "driver"]
    missing = [d for d in dims if d not in df.columns]
    if missing:
        raise ValueError(f"dimensions {missing} are not columns of the frame")
    ts = df["timestamp"]
    data_start = _data_start(ts, step) if len(df) else None
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
    if "driver" in asked:
        require_kind_costs(df)
        contrib = anomaly_drivers(df, anomalies, by=by, step=step, window=baseline)
        parts.append(driver_rows(contrib, asked))
    parts = [p for p in parts if len(p)]
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
