"""Score anomaly detections against the ground truth of a simulation (``Simulation.incidents``).

A detection (a row of :func:`showcase_lib.analysis.anomalies.detect`: ``entity, start, end,
detected_at``) *matches* an incident (``kind, customer_id, start, end``, optionally
``feature_id``) when it is about the same customer or feature (or the incident names neither)
and their windows overlap (within ``tolerance``). :func:`by_kind` also asks that the detection
names the incident's ``driver`` (what moved: calls, a token kind, or the price).

* precision = detections that match an incident / all detections;
* recall = incidents matched by at least one detection / all incidents;
* detection delay = first matching ``detected_at`` - incident ``start`` (when an alert could
  have fired, relative to the onset).

Only incidents of ``kinds`` are scored (by default the two a spend detector should catch:
``viral_spike`` and ``runaway_agent``); a ``growth`` or ``weekly_cycle`` row is context, not an
anomaly, so a quiet scenario has zero incidents and every detection is a false alarm.

Example:
    >>> import pandas as pd
    >>> t = lambda s: pd.Timestamp(s, tz="UTC")
    >>> incidents = pd.DataFrame({"kind": ["viral_spike"], "customer_id": ["c1"],
    ...                           "start": [t("2026-01-10")], "end": [t("2026-01-20")]})
    >>> found = pd.DataFrame({"anomaly_id": [1, 2], "entity": ["c1", "c2"],
    ...                       "start": [t("2026-01-10"), t("2026-01-03")],
    ...                       "end": [t("2026-01-12"), t("2026-01-04")],
    ...                       "detected_at": [t("2026-01-11"), t("2026-01-04")]})
    >>> s = score(found, incidents)
    >>> s.precision, s.recall, s.max_delay
    (0.5, 1.0, Timedelta('1 days 00:00:00'))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DetectionScore", "by_kind", "pooled", "score", "spike_onset", "spike_truth"]

#: Incident kinds a spend-anomaly detector is expected to find.
_ANOMALY_KINDS: tuple[str, ...] = ("viral_spike", "runaway_agent")
#: Every incident kind :func:`by_kind` scores (the rest, growth or cycles, is context).
_ALL_ANOMALY_KINDS: tuple[str, ...] = (
    *_ANOMALY_KINDS,
    "cache_miss_regression",
    "reasoning_creep",
    "retry_storm",
    "price_change",
)


@dataclass(frozen=True)
class DetectionScore:
    """Precision, recall and delay of one (or several pooled) detection runs."""

    precision: float
    recall: float
    n_detections: int
    n_incidents: int
    true_positives: int  # detections that match an incident
    false_positives: int
    detected_incidents: int
    mean_delay: pd.Timedelta | None
    max_delay: pd.Timedelta | None
    incidents: pd.DataFrame = field(repr=False)  # one row per incident, with its match
    false_alarms: pd.DataFrame = field(repr=False)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (NaN when either is undefined)."""
        p, r = self.precision, self.recall
        if np.isnan(p) or np.isnan(r) or p + r == 0:
            return float("nan")
        return 2 * p * r / (p + r)

    def as_series(self) -> pd.Series:
        """The headline figures, for display."""
        return pd.Series(
            {
                "detections": self.n_detections,
                "incidents": self.n_incidents,
                "true_positives": self.true_positives,
                "false_positives": self.false_positives,
                "detected_incidents": self.detected_incidents,
                "precision": self.precision,
                "recall": self.recall,
                "f1": self.f1,
                "mean_delay_h": _hours(self.mean_delay),
                "max_delay_h": _hours(self.max_delay),
            }
        )


def _hours(td: pd.Timedelta | None) -> float:
    return float("nan") if td is None or pd.isna(td) else td / pd.Timedelta(hours=1)


def spike_onset(incidents: pd.DataFrame) -> tuple[str, pd.Timestamp]:
    """(customer, onset) of a simulation's first ``viral_spike`` incident: the parameters a
    reader would know from their own data, read here from the ground truth.

    Example:
        >>> inc = pd.DataFrame({"kind": ["growth", "viral_spike"], "customer_id": ["", "c7"],
        ...                     "start": pd.to_datetime(["2026-01-01", "2026-01-12"], utc=True)})
        >>> spike_onset(inc)
        ('c7', Timestamp('2026-01-12 00:00:00+0000', tz='UTC'))
    """
    rows = incidents[incidents["kind"] == "viral_spike"]
    if rows.empty:
        raise ValueError(
            f"incidents has no 'viral_spike' row (kinds: {sorted(set(incidents['kind']))})"
        )
    first = rows.iloc[0]
    return str(first["customer_id"]), pd.Timestamp(first["start"])


def spike_truth(incidents: pd.DataFrame, result=None) -> pd.Series:
    """The first ``viral_spike`` incident of a simulation: ``true_customer`` and
    ``true_onset`` (what a reader would know from their own data: who, and since when) and,
    given a :func:`~showcase_lib.analysis.scenarios.viral_spike_response` ``result``, whether it
    watched that customer (``right_customer``), ``detected`` and the alert's ``delay`` after the
    onset.

    Example:
        >>> t = lambda s: pd.Timestamp(s, tz="UTC")
        >>> inc = pd.DataFrame({"kind": ["growth", "viral_spike"], "customer_id": ["", "c7"],
        ...                     "start": [t("2026-01-01"), t("2026-01-12")]})
        >>> spike_truth(inc)[["true_customer", "true_onset"]].tolist()
        ['c7', Timestamp('2026-01-12 00:00:00+0000', tz='UTC')]
        >>> from types import SimpleNamespace
        >>> r = SimpleNamespace(customer_id="c7", alert_at=t("2026-01-12 00:30"))
        >>> spike_truth(inc, r)[["right_customer", "delay"]].tolist()
        [True, Timedelta('0 days 00:30:00')]
    """
    customer, onset = spike_onset(incidents)
    truth = {"true_customer": customer, "true_onset": onset}
    if result is None:
        return pd.Series(truth)
    alert = getattr(result, "alert_at", None)
    return pd.Series(
        {
            "right_customer": result.customer_id == customer,
            **truth,
            "detected": alert is not None,
            "delay": (alert - onset) if alert is not None else None,
        }
    )


def _relevant(incidents: pd.DataFrame, kinds: Sequence[str] | None) -> pd.DataFrame:
    need = ["kind", "customer_id", "start", "end"]
    missing = [c for c in need if c not in incidents.columns]
    if missing:
        raise ValueError(f"incidents lack columns {missing}")
    inc = incidents if kinds is None else incidents[incidents["kind"].isin(list(kinds))]
    return inc.reset_index(drop=True)


def _match(
    anomalies: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    kinds: Sequence[str] | None = _ANOMALY_KINDS,
    tolerance: str | pd.Timedelta = "0h",
    by_entity: bool = True,
) -> pd.DataFrame:
    """All (detection, incident) pairs that match: same customer and overlapping windows.

    With ``by_entity=False`` the customer is ignored (for a detector that watches only the
    total bill and cannot name anyone, any overlapping detection counts).

    Returns ``anomaly_id, incident, kind, customer_id, incident_start, detected_at, delay``
    (``incident`` is the row number in the filtered incidents).

    Example:
        >>> t = lambda s: pd.Timestamp(s, tz="UTC")
        >>> inc = pd.DataFrame({"kind": ["runaway_agent"], "customer_id": ["c9"],
        ...                     "start": [t("2026-01-16 01:00")], "end": [t("2026-01-16 07:00")]})
        >>> an = pd.DataFrame({"anomaly_id": [7], "entity": ["c9"], "start": [t("2026-01-16")],
        ...                    "end": [t("2026-01-17")], "detected_at": [t("2026-01-17")]})
        >>> _match(an, inc)["delay"].tolist()
        [Timedelta('0 days 23:00:00')]
    """
    tol = pd.Timedelta(tolerance)
    inc = _relevant(incidents, kinds)
    cols = [
        "anomaly_id",
        "incident",
        "kind",
        "customer_id",
        "incident_start",
        "detected_at",
        "delay",
    ]
    if anomalies.empty or inc.empty:
        return pd.DataFrame(columns=cols)
    a = anomalies[["anomaly_id", "entity", "start", "end", "detected_at"]].reset_index(drop=True)
    i = (
        inc[["kind", "customer_id", "start", "end"]]
        .reset_index()
        .rename(columns={"index": "incident", "start": "incident_start", "end": "incident_end"})
    )
    feature = (
        inc["feature_id"].reset_index(drop=True)
        if "feature_id" in inc.columns
        else pd.Series(None, index=i.index, dtype=object)
    )
    i["feature_id"] = feature.to_numpy()
    pairs = a.merge(i, how="cross")
    entity = pairs["entity"].astype(str)
    same = (pairs["customer_id"].isna() & pairs["feature_id"].isna()) | (
        entity == pairs["customer_id"].astype(str)
    )
    same |= pairs["feature_id"].notna() & (entity == pairs["feature_id"].astype(str))
    if not by_entity:
        same = pd.Series(True, index=pairs.index)
    overlap = (pairs["start"] <= pairs["incident_end"] + tol) & (
        pairs["end"] > pairs["incident_start"] - tol
    )
    hit = pairs[same & overlap].copy()
    hit["delay"] = hit["detected_at"] - hit["incident_start"]
    return hit[cols].reset_index(drop=True)


def score(
    anomalies: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    kinds: Sequence[str] | None = _ANOMALY_KINDS,
    tolerance: str | pd.Timedelta = "0h",
    by_entity: bool = True,
) -> DetectionScore:
    """Precision, recall and detection delay of ``anomalies`` against ``incidents``
    (a detection matches an incident of the same customer whose window it overlaps, within
    ``tolerance``; ``by_entity=False`` ignores the customer, for a detector that watches only
    the total bill).

    Precision is NaN when nothing was detected; recall is NaN when there is nothing to find.
    Returns a frozen ``DetectionScore``: ``precision, recall, f1, n_detections, n_incidents,
    true_positives, false_positives, detected_incidents, mean_delay, max_delay``,
    ``incidents`` (one row per incident with its match), ``false_alarms`` and ``as_series()``.

    Example:
        >>> empty = pd.DataFrame(columns=["anomaly_id", "entity", "start", "end", "detected_at"])
        >>> inc = pd.DataFrame(columns=["kind", "customer_id", "start", "end"])
        >>> s = score(empty, inc)
        >>> s.n_detections, s.n_incidents
        (0, 0)
    """
    inc = _relevant(incidents, kinds)
    pairs = _match(anomalies, incidents, kinds=kinds, tolerance=tolerance, by_entity=by_entity)
    n_det = len(anomalies)
    tp = int(pairs["anomaly_id"].nunique()) if len(pairs) else 0
    found = (
        pairs.groupby("incident").agg(
            anomaly_id=("anomaly_id", "min"),
            detected_at=("detected_at", "min"),
            delay=("delay", "min"),
        )
        if len(pairs)
        else None
    )
    per_inc = inc[["kind", "customer_id", "start", "end"]].copy()
    if found is None:
        found = pd.DataFrame(
            {
                "anomaly_id": pd.Series(dtype="Int64"),
                "detected_at": pd.Series(dtype="datetime64[ns, UTC]"),
                "delay": pd.Series(dtype="timedelta64[ns]"),
            }
        )
    per_inc = per_inc.join(found)
    per_inc.insert(4, "detected", per_inc["detected_at"].notna())
    matched_ids = set(pairs["anomaly_id"]) if len(pairs) else set()
    false_alarms = (
        anomalies[~anomalies["anomaly_id"].isin(matched_ids)].reset_index(drop=True)
        if n_det
        else anomalies.copy()
    )
    return _assemble(n_det, tp, per_inc, false_alarms)


def _assemble(
    n_det: int, tp: int, incidents: pd.DataFrame, false_alarms: pd.DataFrame
) -> DetectionScore:
    """A score from the detection counts and the per-incident table (one row per incident)."""
    n_inc = len(incidents)
    hit = incidents["detected"].astype(bool)
    detected = int(hit.sum())
    delays = pd.to_timedelta(incidents.loc[hit, "delay"])
    return DetectionScore(
        precision=tp / n_det if n_det else float("nan"),
        recall=detected / n_inc if n_inc else float("nan"),
        n_detections=n_det,
        n_incidents=n_inc,
        true_positives=tp,
        false_positives=n_det - tp,
        detected_incidents=detected,
        mean_delay=delays.mean() if len(delays) else None,
        max_delay=delays.max() if len(delays) else None,
        incidents=incidents,
        false_alarms=false_alarms,
    )


def pooled(scores: Iterable[DetectionScore]) -> DetectionScore:
    """Pool several runs (e.g. seeds): precision and recall from the summed counts.

    Example:
        >>> empty = pd.DataFrame(columns=["anomaly_id", "entity", "start", "end", "detected_at"])
        >>> inc = pd.DataFrame(columns=["kind", "customer_id", "start", "end"])
        >>> pooled([score(empty, inc), score(empty, inc)]).n_detections
        0
    """
    items = list(scores)
    if not items:
        raise ValueError("scores is empty; pass at least one DetectionScore")
    n_det = sum(s.n_detections for s in items)
    tp = sum(s.true_positives for s in items)
    incs = pd.concat([s.incidents.assign(run=k) for k, s in enumerate(items)], ignore_index=True)
    fa_parts = [s.false_alarms.assign(run=k) for k, s in enumerate(items) if len(s.false_alarms)]
    fas = (
        pd.concat(fa_parts, ignore_index=True) if fa_parts else items[0].false_alarms.assign(run=0)
    )
    return _assemble(n_det, tp, incs, fas)


def by_kind(
    anomalies: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    kinds: Sequence[str] | None = None,
    tolerance: str | pd.Timedelta = "0h",
) -> pd.DataFrame:
    """Precision, recall and delay per incident kind, asking each detection to name what moved.

    A detection *finds* an incident when it matches it (same customer or feature, overlapping
    windows, see :func:`score`) and *names* it when, in addition, its ``driver`` equals the
    incident's ``driver`` (when both frames have the column; otherwise finding is naming).
    Per kind (default: the anomaly kinds present in ``incidents``):

    * ``incidents``, ``found``, ``named``, ``recall`` (named / incidents);
    * ``detections``: the detections that claim this kind (their driver is the kind's);
    * ``true_positives``: those that name an incident of this kind, and ``precision`` (their
      share; pool runs by summing the counts);
    * ``mean_delay_h``, ``max_delay_h``: first naming ``detected_at`` - incident ``start``.

    Example:
        >>> t = lambda s: pd.Timestamp(s, tz="UTC")
        >>> inc = pd.DataFrame({"kind": ["cache_miss_regression", "reasoning_creep"],
        ...     "customer_id": ["c1", "c2"], "start": [t("2026-01-10"), t("2026-01-12")],
        ...     "end": [t("2026-01-20"), t("2026-01-20")], "driver": ["cache_read", "reasoning"]})
        >>> found = pd.DataFrame({"anomaly_id": [1, 2, 3], "entity": ["c1", "c2", "c3"],
        ...     "start": [t("2026-01-10"), t("2026-01-12"), t("2026-01-02")],
        ...     "end": [t("2026-01-13"), t("2026-01-15"), t("2026-01-03")],
        ...     "detected_at": [t("2026-01-11"), t("2026-01-14"), t("2026-01-03")],
        ...     "driver": ["cache_read", "output", "cache_read"]})
        >>> by_kind(found, inc)[["found", "named", "recall", "detections", "precision"]].values.tolist()
        [[1.0, 1.0, 1.0, 2.0, 0.5], [1.0, 0.0, 0.0, 0.0, nan]]
    """
    if kinds is None:
        present = set(incidents["kind"]) if "kind" in incidents.columns else set()
        kinds = [k for k in _ALL_ANOMALY_KINDS if k in present]
    labelled = "driver" in anomalies.columns and "driver" in incidents.columns
    inc = _relevant(incidents, kinds)
    pairs = _match(anomalies, incidents, kinds=kinds, tolerance=tolerance)
    if labelled and len(pairs):
        said = anomalies.set_index("anomaly_id")["driver"].astype(str)
        pairs["named"] = (
            pairs["anomaly_id"].map(said).to_numpy()
            == inc.loc[pairs["incident"], "driver"].astype(str).to_numpy()
        )
    else:
        pairs["named"] = True
    rows = []
    for kind in kinds:
        ids = inc.index[inc["kind"] == kind]
        mine = pairs[pairs["incident"].isin(ids)]
        named = mine[mine["named"].astype(bool)]
        delay = named.groupby("incident")["delay"].min() if len(named) else pd.Series(dtype=float)
        if labelled:
            drivers = set(inc.loc[ids, "driver"].astype(str))
            claims = anomalies[anomalies["driver"].astype(str).isin(drivers)]["anomaly_id"]
        else:
            claims = anomalies["anomaly_id"] if len(anomalies) else pd.Series(dtype=int)
        right = set(named["anomaly_id"])
        n_claims = len(claims)
        rows.append(
            {
                "kind": kind,
                "incidents": float(len(ids)),
                "found": float(mine["incident"].nunique()),
                "named": float(named["incident"].nunique()),
                "recall": named["incident"].nunique() / len(ids) if len(ids) else np.nan,
                "detections": float(n_claims),
                "true_positives": float(sum(c in right for c in claims)),
                "precision": (
                    sum(c in right for c in claims) / n_claims if n_claims else float("nan")
                ),
                "mean_delay_h": _hours(pd.to_timedelta(delay).mean()) if len(delay) else np.nan,
                "max_delay_h": _hours(pd.to_timedelta(delay).max()) if len(delay) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("kind")
