"""Score analyses against a simulation's ground truth (``Simulation.incidents``).

The only place ground truth enters: every analysis takes records and parameters, and these
functions compare its output with what the simulator injected.

Example:
    >>> import pandas as pd
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> incidents = pd.DataFrame({"kind": ["viral_spike"], "customer_id": ["c1"],
    ...                           "start": [t("2026-01-10")], "end": [t("2026-01-20")]})
    >>> found = pd.DataFrame({"anomaly_id": [1], "entity": ["c1"], "start": [t("2026-01-10")],
    ...                       "end": [t("2026-01-12")], "detected_at": [t("2026-01-11")]})
    >>> score(found, incidents).recall
    1.0
"""

from ._evaluation import by_kind, pooled, score, spike_truth

__all__ = ["by_kind", "pooled", "score", "spike_truth"]
