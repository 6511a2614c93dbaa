"""Ask the metering service what the calls cost: Revenium's cost queries, as a DataFrame.

One function, :func:`query_costs`, for the four cost-query routes of Revenium's profitstream
API (``GET /profitstream/v2/api/sources/metrics/ai/total-cost-by-model``,
``cost-metric-by-organization``, ``cost-metric-by-product``,
``cost-metrics-by-subscriber-credential``; ``teamId``, ``period`` or ``startDate`` /
``endDate``, ``x-api-key``: revenium.readme.io ``get_cost_metric_by_model``; the route table
of ``revenium/revenium-mcp``, ``src/revenium_mcp_server/endpoint_registry.py``). The same
call reads the emulator (``Settings(emu.api_key, emu.base_url)``) and the real service
(``Settings.from_env()``: ``REVENIUM_METERING_API_KEY`` and ``REVENIUM_METERING_BASE_URL``,
plus ``REVENIUM_TEAM_ID`` for the team). The routes live beside ``/meter/`` on the same host,
so the query URL is the metering base URL with its ``meter/`` segment replaced. The key
travels only in the ``x-api-key`` header; it is never part of a URL, an error or a repr.

The answer is read in the shape revenium-mcp's client reads (``analytics/
simple_cost_analyzer.py``): a list of time buckets ``{"startTimestamp", "groups":
[{"groupName", "metrics": [{"metricResult"}]}]}``, or one such object; each bucket's
``endTimestamp`` is used when present (the emulator sends it). Revenium also has a newer
``/api/v2/analytics/cost-by-*`` API (Bearer auth, another host); this function does not
speak it.

Example:
    >>> import httpx
    >>> from showcase_lib.emulator import Emulator
    >>> from showcase_lib.metering import Settings
    >>> body = {"transactionId": "t1", "provider": "OpenAI", "model": "gpt-5.5",
    ...     "inputTokenCount": 10, "outputTokenCount": 5, "totalTokenCount": 15,
    ...     "totalCost": 0.25, "organizationName": "acme",
    ...     "requestTime": "2026-11-15T12:00:00Z", "responseTime": "2026-11-15T12:00:01Z",
    ...     "completionStartTime": "2026-11-15T12:00:01Z", "requestDuration": 1000,
    ...     "stopReason": "END", "costType": "AI", "isStreamed": False}
    >>> with Emulator() as emu:
    ...     _ = httpx.post(emu.completions_url, json=body, headers={"x-api-key": emu.api_key})
    ...     got = query_costs(Settings(emu.api_key, emu.base_url), "organization",
    ...                       between=("2026-11-01", "2026-12-01"), team_id="demo")
    >>> got.groupby("organization_id")["cost_usd"].sum().to_dict()
    {'acme': 0.25}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final, Literal

import httpx
import pandas as pd

from showcase_lib.metering._settings import Settings

CostDimension = Literal["model", "organization", "product", "subscriber_credential"]
Period = Literal[
    "HOUR", "EIGHT_HOURS", "TWENTY_FOUR_HOURS", "SEVEN_DAYS", "THIRTY_DAYS", "TWELVE_MONTHS"
]
ENV_TEAM_ID: Final = "REVENIUM_TEAM_ID"  # the name revenium-mcp reads the team from
_PREFIX: Final = "profitstream/v2/api/sources/metrics/ai/"
#: dimension -> (route, the column of the answer: the record's column where there is one)
_ROUTES: Final[dict[str, tuple[str, str]]] = {
    "model": ("total-cost-by-model", "model"),
    "organization": ("cost-metric-by-organization", "organization_id"),
    "product": ("cost-metric-by-product", "product_id"),
    "subscriber_credential": ("cost-metrics-by-subscriber-credential", "credential"),
}
_PERIODS: Final = frozenset(Period.__args__)  # type: ignore[attr-defined]


def _root(settings: Settings) -> str:
    """The service root: the metering base URL without its ``meter/`` segment."""
    base = settings.base_url  # normalised: ends with ".../meter/"
    return base[: -len("meter/")]


def _iso(value: Any) -> str:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat().replace("+00:00", "Z")


def _rows(answer: Any, column: str) -> list[dict[str, Any]]:
    buckets = [answer] if isinstance(answer, dict) else answer
    if not isinstance(buckets, list):
        raise ValueError(f"the cost query answered {type(answer).__name__}, not a list of buckets")
    rows = []
    for bucket in buckets:
        start, end = bucket.get("startTimestamp"), bucket.get("endTimestamp")
        for group in bucket.get("groups") or []:
            cost = sum(
                float(m.get("metricResult") or 0.0)
                for m in group.get("metrics") or []
                if isinstance(m, Mapping)
            )
            rows.append({"start": start, "end": end, column: group.get("groupName"), "cost": cost})
    return rows


def query_costs(
    settings: Settings,
    by: CostDimension = "model",
    *,
    period: Period = "TWELVE_MONTHS",
    between: tuple[Any, Any] | None = None,
    team_id: str | None = None,
) -> pd.DataFrame:
    """What the metered calls cost, grouped by model, organization, product or credential,
    as the metering service computes it.

    Args:
        settings: where the service is and its key (:class:`Settings`); the emulator's or
            ``Settings.from_env()``.
        by: ``model``, ``organization``, ``product`` or ``subscriber_credential``.
        period: the service's window ending now (default its own, twelve months).
        between: ``(start, end)`` (anything ``pd.Timestamp`` reads; naive means UTC), which
            overrides ``period`` as ``startDate`` / ``endDate`` do.
        team_id: the Revenium team; default ``REVENIUM_TEAM_ID`` from the environment.

    Returns one row per time bucket and group: ``start``, ``end`` (UTC timestamps of the
    bucket), the group (``model``, ``organization_id``, ``product_id`` or ``credential``;
    None for calls without one) and ``cost_usd``. ``attrs["route"]`` names the route asked.
    Raises ``ValueError`` for a bad argument and ``httpx.HTTPStatusError`` (with the
    service's message, never the key) when the service refuses.

    Example:
        >>> from showcase_lib.emulator import Emulator
        >>> with Emulator() as emu:
        ...     empty = query_costs(Settings(emu.api_key, emu.base_url), team_id="demo")
        >>> empty.columns.tolist(), empty.attrs["route"]
        (['start', 'end', 'model', 'cost_usd'], 'total-cost-by-model')
    """
    if by not in _ROUTES:
        raise ValueError(f"by={by!r} must be one of {', '.join(_ROUTES)}")
    if period not in _PERIODS:
        raise ValueError(f"period={period!r} must be one of {', '.join(sorted(_PERIODS))}")
    team = team_id if team_id is not None else os.environ.get(ENV_TEAM_ID, "")
    if not team:
        raise ValueError(f"team_id is required: pass team_id= or set {ENV_TEAM_ID}")
    route, column = _ROUTES[by]
    params = {"teamId": team, "period": period}
    if between is not None:
        start, end = between
        params |= {"startDate": _iso(start), "endDate": _iso(end)}
    timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
    with httpx.Client(timeout=timeout) as client:
        response = client.get(
            _root(settings) + _PREFIX + route,
            params=params,
            headers={"x-api-key": settings.api_key.reveal(), "Accept": "application/json"},
        )
    if response.status_code != 200:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise httpx.HTTPStatusError(
            f"GET {route} answered {response.status_code}: {str(message)[:300]}",
            request=response.request,
            response=response,
        )
    rows = _rows(response.json(), column)
    frame = pd.DataFrame(rows, columns=["start", "end", column, "cost"])
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    frame = frame.rename(columns={"cost": "cost_usd"}).astype({"cost_usd": "float64"})
    frame.attrs["route"] = route
    return frame
