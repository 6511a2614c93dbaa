"""Anomaly detection on AI spend: scores, alerts, and detection with root causes.

Calls are pivoted once into a (periods x entities) matrix (:func:`cost_matrix`) and every score
is computed on the whole matrix at once. Three layers:

* **scores**, each looking only at the past: :func:`score` (rolling or robust z-score, the
  shift score and its CUSUM) and, for one series, :func:`expected_band`;
* **alerts**: :func:`alerts` applies one rule (a fixed limit, a budget, the spike rule, a
  sustained shift) to the calls; :func:`cost_outliers` finds single calls that cost far more
  than calls of their kind;
* **detection**: :func:`detect` composes the spike and shift rules into AWS-style anomaly
  windows with their :func:`root_causes`. Every setting lives in one :class:`DetectorConfig`
  (its ``metric`` watches spend, the call count or the cost per call);
* **drivers**: :func:`drivers` splits a change of cost into calls, each token kind and the
  price (usage vs price attribution), the ``driver`` that :func:`detect` reports.

Example:
    >>> import numpy as np, pandas as pd
    >>> days = pd.date_range("2026-01-01", periods=20, tz="UTC")
    >>> calls = pd.DataFrame({"timestamp": days, "customer_id": "c1",
    ...                       "cost_usd": 10 + np.tile([0.0, 1.0], 10)})
    >>> calls.loc[15, "cost_usd"] = 100.0                  # one spike on day 16
    >>> cfg = DetectorConfig(window=10, min_periods=5, confirm=None, require_history=False)
    >>> spikes = alerts(calls, "spike", config=cfg)
    >>> spikes["period"].dt.strftime("%m-%d").tolist(), spikes["entity"].tolist()
    (['01-16'], ['c1'])
"""

from ._alerts import cost_outliers
from ._config import DetectorConfig
from ._detect import detect, root_causes
from ._drivers import drivers
from ._matrix import cost_matrix
from ._rules import alerts
from ._scores import expected_band, score

__all__ = [
    "DetectorConfig",
    "alerts",
    "cost_matrix",
    "cost_outliers",
    "detect",
    "drivers",
    "expected_band",
    "root_causes",
    "score",
]
