"""The emulator's read side: Revenium-shaped cost queries, likely duplicates, unknown fields.

**Cost queries.** Revenium's profitstream API answers cost questions over the metered calls:
``GET /profitstream/v2/api/sources/metrics/ai/total-cost-by-model``,
``.../cost-metric-by-organization``, ``.../cost-metric-by-product`` and
``.../cost-metrics-by-subscriber-credential``, with ``teamId``, ``period`` (``HOUR``,
``EIGHT_HOURS``, ``TWENTY_FOUR_HOURS``, ``SEVEN_DAYS``, ``THIRTY_DAYS``, ``TWELVE_MONTHS``;
default twelve months) or ``startDate`` / ``endDate`` (which override the period), and
``x-api-key`` (revenium.readme.io, ``get_cost_metric_by_model``; the route table of
``revenium/revenium-mcp``, ``src/revenium_mcp_server/endpoint_registry.py``). The answer's
shape is read from the client code of ``revenium/revenium-mcp``
(``analytics/cost_analytics_processor.py`` ``_process_cost_trend_data`` and
``analytics/simple_cost_analyzer.py`` ``get_model_costs`` / ``get_customer_costs``): a list of
time buckets, each ``{"startTimestamp", "groups": [{"groupName", "metrics":
[{"metricResult": <USD>}]}]}``; that client also accepts a single bucket object, which the
emulator never sends. No published schema was found, so three details are this emulator's
choice and may differ from the service: each bucket also carries ``endTimestamp``; both are
ISO 8601 UTC strings; and the bucket width follows the window (one minute up to an hour, one
hour up to two days, one day up to 92 days, else calendar months). A call belongs to the bucket
holding its ``requestTime``; a group with no value (a call without an organization, say) has
``groupName`` null.

What each call cost is what the emulator's pricing read-out says (``_pricing.price_body``,
``Emulator.costs()``): the caller's ``totalCost`` when it sent one, else the price of its
tokens. An unpriced call (a model the price package does not know: often a misspelt model
name) counts $0, as it would on the service's reports: the "$0 cost" trap, visible in
``costs()["note"]``. The deprecated ``organizationId`` / ``productId`` attribute nothing (see
``_fields``).

**Likely duplicates** (:func:`likely_duplicates`): the same call metered twice under two
transactionIds (by the SDK and by OpenTelemetry, say) is stored twice, because nothing says it
is one call. Calls with the same provider (any case), model, input and output token counts and
``requestTime`` within ``DUPLICATE_WINDOW_S`` of each other are reported, grouped.

Example:
    >>> bodies = [{"transactionId": "a", "provider": "OpenAI", "model": "m", "totalCost": 0.5,
    ...            "inputTokenCount": 10, "outputTokenCount": 2,
    ...            "requestTime": "2026-08-01T10:00:00Z", "organizationName": "acme"},
    ...           {"transactionId": "b", "provider": "openai", "model": "m", "totalCost": 0.5,
    ...            "inputTokenCount": 10, "outputTokenCount": 2,
    ...            "requestTime": "2026-08-01T10:00:01Z"}]
    >>> window = parse_window({"teamId": ["t"], "startDate": ["2026-08-01"],
    ...                        "endDate": ["2026-08-02"]}, now=datetime.now(timezone.utc))
    >>> answer = cost_metric(bodies, "organization", window)
    >>> len(answer)  # one bucket per hour of the day
    24
    >>> [(b["startTimestamp"], [(g["groupName"], g["metrics"][0]["metricResult"])
    ...   for g in b["groups"]]) for b in answer if b["groups"]]
    [('2026-08-01T10:00:00Z', [('acme', 0.5), (None, 0.5)])]
    >>> [(d["group"], d["transaction_id"]) for d in likely_duplicates(bodies)]
    [(1, 'a'), (1, 'b')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Literal, NamedTuple

from showcase_lib.emulator._fields import field_report
from showcase_lib.emulator._pricing import price_body
from showcase_lib.wire import FieldError

Dimension = Literal["model", "organization", "product", "subscriber_credential"]

QUERY_PREFIX: Final = "/profitstream/v2/api/sources/metrics/ai/"
#: Route (after ``QUERY_PREFIX``) -> what it groups by.
QUERY_ROUTES: Final[dict[str, Dimension]] = {
    "total-cost-by-model": "model",
    "cost-metric-by-organization": "organization",
    "cost-metric-by-product": "product",
    "cost-metrics-by-subscriber-credential": "subscriber_credential",
}
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
#: ``period`` -> (window length, bucket width); ``None`` width means calendar months.
PERIODS: Final[dict[str, tuple[timedelta, timedelta | None]]] = {
    "HOUR": (_HOUR, timedelta(minutes=1)),
    "EIGHT_HOURS": (8 * _HOUR, _HOUR),
    "TWENTY_FOUR_HOURS": (24 * _HOUR, _HOUR),
    "SEVEN_DAYS": (7 * _DAY, _DAY),
    "THIRTY_DAYS": (30 * _DAY, _DAY),
    "TWELVE_MONTHS": (365 * _DAY, None),
}
DEFAULT_PERIOD: Final = "TWELVE_MONTHS"  # the service's default (API reference)
#: Longest ``startDate``-``endDate`` window: 100 years of monthly buckets (1,200) is still a
#: small answer; anything longer is a typo in a year.
_MAX_WINDOW: Final = 36_525 * _DAY
#: "A couple of seconds": two paths metering one call stamp ``requestTime`` from their own
#: clocks around the same moment (the SDK and an OpenTelemetry span both take the request's
#: start, whole seconds on the SDK's side), so a real duplicate lands within 1-2 s; two
#: distinct calls with the very same model and token counts that close together are rare.
DUPLICATE_WINDOW_S: Final = 2.0


class Window(NamedTuple):
    """A query's time window ``[start, end)`` and its bucket width (None: calendar months)."""

    start: datetime
    end: datetime
    step: timedelta | None


class QueryError(ValueError):
    """A cost query with bad parameters; ``.errors`` lists each one."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


def _parse_time(text: str) -> datetime | None:
    """An ISO 8601 date or time; a date or a time without zone is UTC."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _step_for(span: timedelta) -> timedelta | None:
    if span <= _HOUR:
        return timedelta(minutes=1)
    if span <= 2 * _DAY:
        return _HOUR
    if span <= 92 * _DAY:
        return _DAY
    return None


def parse_window(q: Mapping[str, list[str]], *, now: datetime) -> Window:
    """The window of a query string (``parse_qs`` form); raise :class:`QueryError`.

    Example:
        >>> now = datetime(2026, 8, 15, 12, tzinfo=timezone.utc)
        >>> w = parse_window({"teamId": ["t"], "period": ["SEVEN_DAYS"]}, now=now)
        >>> (w.start.isoformat(), w.step)
        ('2026-08-08T12:00:00+00:00', datetime.timedelta(days=1))
    """
    errors: list[FieldError] = []
    if not q.get("teamId", [""])[-1]:
        errors.append(FieldError("teamId", "is required (your Revenium team id)"))
    period = q.get("period", [DEFAULT_PERIOD])[-1]
    if period not in PERIODS:
        errors.append(FieldError("period", "must be one of " + ", ".join(PERIODS), repr(period)))
    start_text, end_text = q.get("startDate", [None])[-1], q.get("endDate", [None])[-1]
    window: Window | None = None
    if start_text is None and end_text is None:
        if period in PERIODS:
            span, step = PERIODS[period]
            window = Window(now - span, now, step)
    elif start_text is None or end_text is None:
        errors.append(FieldError("startDate", "and endDate go together: send both or neither"))
    else:
        start, end = _parse_time(start_text), _parse_time(end_text)
        for name, text, value in (("startDate", start_text, start), ("endDate", end_text, end)):
            if value is None:
                errors.append(FieldError(name, "must be an ISO 8601 date or time", repr(text)))
        if start is not None and end is not None:
            if not start < end:
                errors.append(FieldError("endDate", "must be after startDate", repr(end_text)))
            elif end - start > _MAX_WINDOW:
                errors.append(FieldError("endDate", "must be within 100 years of startDate"))
            else:
                window = Window(start, end, _step_for(end - start))
    if errors or window is None:
        raise QueryError(errors)
    return window


def _add_months(dt: datetime, months: int) -> datetime:
    index = dt.month - 1 + months
    year, month = dt.year + index // 12, index % 12 + 1
    for day in (dt.day, 30, 29, 28):  # the same day, else the month's last
        try:
            return dt.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _edges(window: Window) -> list[datetime]:
    """Bucket boundaries from ``window.start`` to ``window.end`` (the last bucket may be short)."""
    edges = [window.start]
    while edges[-1] < window.end:
        nxt = (
            edges[-1] + window.step
            if window.step is not None
            else _add_months(window.start, len(edges))
        )
        edges.append(min(nxt, window.end))
    return edges


def _iso(dt: datetime) -> str:
    text = dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return text


def _group_of(dimension: Dimension) -> Callable[[Mapping[str, Any]], Any]:
    if dimension == "model":
        return lambda b: b.get("model")
    if dimension == "organization":
        return lambda b: b.get("organizationName")
    if dimension == "product":
        return lambda b: b.get("productName")

    def credential(b: Mapping[str, Any]) -> Any:
        sub = b.get("subscriber")
        cred = sub.get("credential") if isinstance(sub, dict) else None
        return cred.get("name") if isinstance(cred, dict) else None

    return credential


def _cost(body: Mapping[str, Any]) -> float:
    """What the call cost on the emulator's bill (unpriced: 0)."""
    total = price_body(body)["total"]
    return float(total) if total is not None else 0.0


def cost_metric(
    bodies: Iterable[Mapping[str, Any]], dimension: Dimension, window: Window
) -> list[dict[str, Any]]:
    """The answer of one cost query: a list of buckets with the cost of each group.

    Groups inside a bucket are ordered by cost, highest first (then by name); a bucket
    without calls has no groups.

    Example:
        >>> w = Window(datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...            datetime(2026, 3, 1, tzinfo=timezone.utc), None)
        >>> [b["startTimestamp"] for b in cost_metric([], "model", w)]
        ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z']
    """
    edges = _edges(window)
    group_of = _group_of(dimension)
    sums: list[dict[Any, float]] = [defaultdict(float) for _ in edges[:-1]]
    start, end = window.start, window.end
    for body in bodies:
        when = _parse_time(str(body.get("requestTime", "")))
        if when is None or not start <= when < end:
            continue
        i = _bucket(edges, when)
        sums[i][group_of(body)] += _cost(body)
    out = []
    for i, groups in enumerate(sums):
        ranked = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0] is None, str(kv[0])))
        out.append(
            {
                "startTimestamp": _iso(edges[i]),
                "endTimestamp": _iso(edges[i + 1]),
                "groups": [
                    {"groupName": name, "metrics": [{"metricResult": cost}]}
                    for name, cost in ranked
                ],
            }
        )
    return out


def _bucket(edges: list[datetime], when: datetime) -> int:
    lo, hi = 0, len(edges) - 1  # edges[lo] <= when < edges[hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if edges[mid] <= when:
            lo = mid
        else:
            hi = mid
    return lo


def likely_duplicates(
    bodies: Iterable[Mapping[str, Any]], window_s: float = DUPLICATE_WINDOW_S
) -> list[dict[str, Any]]:
    """Stored completions that look like one call metered twice, grouped.

    Same provider (any case), model, ``inputTokenCount`` and ``outputTokenCount``, and each
    ``requestTime`` within ``window_s`` of the previous one in its group; one entry per call:
    ``group`` (1, 2, ... by time), ``transaction_id``, ``provider``, ``model``,
    ``input_tokens``, ``output_tokens``, ``request_time``, ``gap_s`` (seconds after the
    group's first call) and ``middleware_source`` (who metered it, when the body says).

    Example:
        >>> likely_duplicates([])
        []
    """
    if window_s < 0:
        raise ValueError(f"window_s={window_s!r} must be >= 0")
    by_call: dict[tuple[Any, ...], list[tuple[datetime, Mapping[str, Any]]]] = defaultdict(list)
    for body in bodies:
        when = _parse_time(str(body.get("requestTime", "")))
        if when is None:
            continue
        provider = body.get("provider")
        key = (
            provider.lower() if isinstance(provider, str) else provider,
            body.get("model"),
            body.get("inputTokenCount"),
            body.get("outputTokenCount"),
        )
        by_call[key].append((when, body))
    clusters: list[list[tuple[datetime, Mapping[str, Any]]]] = []
    for calls in by_call.values():
        calls.sort(key=lambda c: c[0])
        run = [calls[0]]
        for call in calls[1:]:
            if (call[0] - run[-1][0]).total_seconds() <= window_s:
                run.append(call)
            else:
                clusters.append(run)
                run = [call]
        clusters.append(run)
    clusters = [c for c in clusters if len({b.get("transactionId") for _, b in c}) > 1]
    clusters.sort(key=lambda c: c[0][0])
    out = []
    for n, cluster in enumerate(clusters, start=1):
        first = cluster[0][0]
        for when, body in cluster:
            out.append(
                {
                    "group": n,
                    "transaction_id": body.get("transactionId"),
                    "provider": body.get("provider"),
                    "model": body.get("model"),
                    "input_tokens": body.get("inputTokenCount"),
                    "output_tokens": body.get("outputTokenCount"),
                    "request_time": body.get("requestTime"),
                    "gap_s": (when - first).total_seconds(),
                    "middleware_source": body.get("middlewareSource"),
                }
            )
    return out


#: Columns of the read-outs, in order (for empty frames).
DUPLICATE_FIELDS: Final[tuple[str, ...]] = (
    "group",
    "transaction_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "request_time",
    "gap_s",
    "middleware_source",
)
FIELD_REPORT_FIELDS: Final[tuple[str, ...]] = (
    "transaction_id",
    "field",
    "kind",
    "suggestion",
    "note",
)


def unknown_fields(bodies: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The per-record report of unknown and deprecated fields (``_fields.field_report``), for
    every body in order.

    Example:
        >>> [e["field"] for e in unknown_fields([{"transactionId": "t", "totalCots": 1}])]
        ['totalCots']
    """
    return [entry for body in bodies for entry in field_report(body)]
