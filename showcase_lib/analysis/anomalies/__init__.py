"""Anomaly detection on AI spend: scores, alerts, and detection with root causes.

Calls are pivoted once into a (periods x entities) matrix (:func:`cost_matrix`) and every score
is computed on the whole matrix at once. Three layers, one module each:

* **scores** (each looks only at the past): :func:`rolling_zscore`, :func:`robust_zscore`
  (``0.6745 (x - median) / MAD``, Iglewicz and Hoaglin), :func:`expected_band`,
  :func:`shift_scores` and :func:`cusum` for a sustained shift;
* **alerts** a team sets by hand: :func:`threshold_alerts`, :func:`budget_alerts`, and
  per-call :func:`cost_outliers`;
* **detection**: :func:`spike_scores` -> :func:`spike_alerts` (the three-part spike rule),
  :func:`behaviour_changes` (CUSUM), composed by :func:`detect` into AWS-style anomaly windows
  with :func:`root_causes`. Every setting lives in one :class:`DetectorConfig`.

Example:
    >>> import numpy as np, pandas as pd
    >>> idx = pd.date_range("2026-01-01", periods=20, tz="UTC")
    >>> m = pd.DataFrame({"c1": 10 + np.tile([0.0, 1.0], 10)}, index=idx)
    >>> m.iloc[15, 0] = 100.0                       # one spike on day 16
    >>> cfg = DetectorConfig(window=10, min_periods=5, confirm=None, require_history=False)
    >>> spikes = spike_alerts(spike_scores(m, config=cfg), cfg)
    >>> spikes["period"].dt.strftime("%m-%d").tolist(), spikes["entity"].tolist()
    (['01-16'], ['c1'])
"""

from ._alerts import budget_alerts, cost_outliers, threshold_alerts
from ._config import DetectorConfig
from ._detect import (
    anomaly_report,
    behaviour_changes,
    detect,
    root_causes,
    spike_alerts,
    spike_scores,
)
from ._matrix import cost_matrix
from ._scores import cusum, expected_band, robust_zscore, rolling_zscore, shift_scores

__all__ = [
    "DetectorConfig",
    "anomaly_report",
    "behaviour_changes",
    "budget_alerts",
    "cost_matrix",
    "cost_outliers",
    "cusum",
    "detect",
    "expected_band",
    "robust_zscore",
    "rolling_zscore",
    "root_causes",
    "shift_scores",
    "spike_alerts",
    "spike_scores",
    "threshold_alerts",
]
