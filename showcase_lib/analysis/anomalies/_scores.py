"""Scores on (periods x entities) matrices, each looking only at the past.

* rolling z-score ``(x - mean) / std`` of the previous ``window`` periods;
* robust (modified) z-score ``0.6745 (x - median) / MAD`` of the previous ``window`` periods
  (Iglewicz and Hoaglin; flag above 3.5);
* CUSUM of clipped robust scores for a *new normal* (a sustained shift) rather than one spike,
  in closed form ``S_t = C_t - min(0, min_{s<=t} C_s)`` with ``C`` the cumulative sum of
  ``min(z, clip) - k``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import pandas as pd

from ._config import MAD_CONSTANT, MEANAD_CONSTANT
from ._matrix import as_frame, back

if TYPE_CHECKING:
    from ._config import DetectorConfig


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
    frame, was_series = as_frame(x)
    past = frame.shift(1).rolling(window, min_periods=min_periods)
    mean, std = past.mean(), past.std(ddof=1)
    z = (frame - mean) / std.where(std > min_std)
    return back(z, was_series)


def _trailing_windows(values: np.ndarray, window: int) -> np.ndarray:
    """(T, C) -> (T, C, window) views of the previous ``window`` rows (NaN-padded)."""
    t, c = values.shape
    padded = np.vstack([np.full((window, c), np.nan), values])
    view = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (T+1, C, window)
    return view[:t]


def _window_median(win: np.ndarray) -> np.ndarray:
    """``np.nanmedian(win, axis=2)``, with the plain (several times faster) median on the
    windows without a NaN: numpy's nanmedian goes through masked arrays on short axes."""
    gaps = np.isnan(win).any(axis=2)
    out = np.empty(win.shape[:2])
    full = ~gaps
    if full.any():
        out[full] = np.median(win[full], axis=1)
    if gaps.any():
        out[gaps] = _gap_median(win[gaps])
    return out


def _gap_median(rows: np.ndarray) -> np.ndarray:
    """``np.nanmedian(rows, axis=1)`` of (m, w) rows with NaN, as numpy's masked median
    computes it on short axes: sort (NaN last), ``(low + high) / 2`` of the middle pair of
    the values present (the middle value twice when their number is odd), NaN when none is;
    without its masked arrays and its one warning per all-NaN row.

    Example:
        >>> _gap_median(np.array([[np.nan, 3.0, 1.0], [np.nan, np.nan, 2.0], [np.nan] * 3])).tolist()
        [2.0, 2.0, nan]
    """
    ordered = np.sort(rows, axis=1)
    n = (~np.isnan(rows)).sum(axis=1)
    high = n // 2
    low = np.where(n % 2 == 1, high, high - 1)
    last = rows.shape[1] - 1
    lo = np.take_along_axis(ordered, np.clip(low, 0, last)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(ordered, np.clip(high, 0, last)[:, None], axis=1)[:, 0]
    out = (lo + hi) / 2.0
    out[n == 0] = np.nan
    return out


#: The last few results of :func:`robust_center_scale`: one detection asks for the same
#: matrix's baseline several times (spike scores, shifts, windows).
_BASELINES: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_BASELINES_KEPT = 4


def robust_center_scale(values: np.ndarray, window: int | None, min_periods: int):
    """Trailing (or global) median and MAD-based scale; scale falls back to mean AD.

    The results are read-only and remembered for the last few matrices (keyed by content)."""
    values = np.ascontiguousarray(values, dtype=float)
    key = (values.shape, window, min_periods, hashlib.blake2b(values.tobytes()).digest())
    if key in _BASELINES:
        _BASELINES.move_to_end(key)
        return _BASELINES[key]
    med, scale = _center_scale(values, window, min_periods)
    for a in (med, scale):
        a.flags.writeable = False
    _BASELINES[key] = (med, scale)
    if len(_BASELINES) > _BASELINES_KEPT:
        _BASELINES.popitem(last=False)
    return med, scale


def _center_scale(values: np.ndarray, window: int | None, min_periods: int):
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
            med = _window_median(win)
            dev = np.abs(win - med[..., None])
            mad = _window_median(dev)
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
    frame, was_series = as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, scale = robust_center_scale(values, window, min_periods)
    scale = np.maximum(scale, min_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (values - med) / scale, np.nan)
    return back(pd.DataFrame(z, index=frame.index, columns=frame.columns), was_series)


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
    med, scale = robust_center_scale(values, window, min_periods)
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
    frame, was_series = as_frame(x)
    values = frame.to_numpy(dtype=float)
    med, scale = robust_center_scale(values, window, min_periods)
    scale = np.maximum(scale, min_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (values - med) / scale, np.where(values > med, np.inf, 0.0))
    z = np.where(np.isnan(med), 0.0, z)
    return back(pd.DataFrame(z, index=frame.index, columns=frame.columns), was_series)


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
    frame, was_series = as_frame(x)
    values = frame.to_numpy(dtype=float)
    if min_periods > window:  # what pandas' rolling says
        raise ValueError(f"min_periods {min_periods} must be <= window {window}")
    ok = _established(values, window, max(min_periods, 1))
    return back(pd.DataFrame(ok, index=frame.index, columns=frame.columns), was_series)


def _trailing_counts(flags: np.ndarray, window: int) -> np.ndarray:
    """Per cell, how many of the previous ``window`` rows (not the cell's own) are true."""
    c = np.zeros((flags.shape[0] + 1, flags.shape[1]), dtype=np.int64)
    np.cumsum(flags, axis=0, out=c[1:])
    lo = np.maximum(np.arange(flags.shape[0]) - window, 0)
    return c[:-1] - c[lo]


def _established(values: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """``shift(1).rolling(window, min_periods)``: ``min() > 0 & count() >= min_periods``, as
    two trailing counts (finite values, and those not above 0): no per-column loop. pandas'
    rolling ``min`` reads infinities as missing (``count`` does not, and counts no fewer)."""
    finite = np.isfinite(values)
    count = _trailing_counts(finite, window)
    low = _trailing_counts(finite & ~(values > 0), window)
    return (count >= min_periods) & (low == 0)


#: Scores :func:`score` computes: the rolling z-score, the robust (modified) z-score, the
#: shift score behaviour changes accumulate, and its CUSUM.
ScoreMethod = Literal["rolling", "robust", "shift", "cusum"]


def score(
    x: pd.Series | pd.DataFrame,
    method: ScoreMethod = "robust",
    *,
    window: int | None = 14,
    config: DetectorConfig | None = None,
) -> pd.Series | pd.DataFrame:
    """Score every period of a cost series or (periods x entities) matrix against its past.

    ``method``:

    * ``"rolling"``: ``(x - mean) / std`` of the previous ``window`` periods (the current one
      excluded, so a spike cannot hide itself);
    * ``"robust"``: the modified z-score ``0.6745 (x - median) / MAD`` of the previous
      ``window`` periods (Iglewicz and Hoaglin; flag above 3.5); ``window=None``: the whole
      column, current point included, as in the textbook test;
    * ``"shift"``: the robust score the behaviour-change rule accumulates, 0 before a baseline
      exists and +inf for a rise over a perfectly flat history;
    * ``"cusum"``: the upper CUSUM of the shift scores, ``S_t = max(0, S_{t-1} + min(z_t,
      clip) - k)`` with ``k``, ``clip`` from ``config`` (``cusum_k``, ``cusum_clip``): a single
      spike adds at most ``clip - k``, a sustained shift climbs past ``config.cusum_h``.

    Scores are NaN until ``config.min_periods`` periods of history exist (default 7).

    Example:
        >>> s = pd.Series([10.0, 11.0, 9.0, 10.0, 11.0, 9.0, 10.0, 40.0])
        >>> round(float(score(s, "robust", window=7).iloc[-1]), 2)
        20.23
        >>> round(float(score(s, "rolling", window=7).iloc[-1]), 2)
        36.74
        >>> score(pd.Series([1.0] * 8 + [5.0] * 4), "cusum").round(1).tolist()[-4:]
        [2.5, 5.0, 7.5, 9.9]
    """
    from ._config import DetectorConfig

    cfg = config or DetectorConfig()
    if method == "rolling":
        return rolling_zscore(x, window or cfg.window, min_periods=cfg.min_periods)
    if method == "robust":
        return robust_zscore(x, window, min_periods=cfg.min_periods)
    if method not in ("shift", "cusum"):
        raise ValueError(f"method={method!r} is not one of {list(get_args(ScoreMethod))}")
    z = shift_scores(x, window or cfg.window, min_periods=cfg.min_periods)
    return z if method == "shift" else cusum(z, k=cfg.cusum_k, clip=cfg.cusum_clip)
