"""Cost controls the way Revenium's SDK enforces them: the emulator serves the rules it polls.

revenium-python-sdk 0.12.0 (``revenium_middleware/_core/enforcement.py``, cited as
``enforcement.py:LINE``) enforces budgets on the client, before the provider call, from rules it
polls; it computes no spend itself:

- it polls ``GET {base}/v2/api/ai/enforcement-rules/{REVENIUM_TEAM_ID}`` with ``x-api-key``
  (enforcement.py:1014, :1044-1045) every ``REVENIUM_CB_POLL_INTERVAL_SECONDS`` (default 60, a
  whole number >= 1: enforcement.py:90, :359-368) on a daemon thread, once
  ``REVENIUM_CIRCUIT_BREAKER_ENABLED`` is on (enforcement.py:328-330). ``{base}`` is
  ``REVENIUM_ENFORCEMENT_BASE_URL``, else the origin of the metering URL
  (enforcement.py:465-479): pointed at the emulator for metering, the SDK polls it for rules too;
- the body is ``{"rules": [...], "compiledAt": ...}`` (a bare list is accepted) and ``204`` means
  "no rules" (enforcement.py:1130-1138, :938-961);
- a pooled rule blocks when the **server** marks it ``breached`` (enforcement.py:1673-1676); a
  rule grouped by subscriber blocks the caller whose ``groupBreakdown`` entry is ``breached``
  (enforcement.py:1664-1671); ``filters`` (e.g. ``SUBSCRIBER IS cust_1``) scope a rule to the
  calls that match them (enforcement.py:1966-2024); a ``shadowMode`` rule is skipped
  (enforcement.py:2638-2639), as is a breached rule whose ``action`` is not ``BLOCK``
  (enforcement.py:2186-2199) and one whose ``windowEnd`` has passed (enforcement.py:1602-1617);
- the block raises ``BudgetExceededError`` with ``rule_name`` (``name``), ``current_value``,
  ``threshold``, ``resets_at`` (``resetsAt``) and ``rule_id`` (enforcement.py:2250-2269);
- a failed poll keeps the cached rules and fails open; before the first poll lands a call goes
  through, unless ``REVENIUM_CB_FAIL_MODE=closed`` (enforcement.py:2612-2616).

So the spend is the service's: here ``currentValue`` is computed from the emulator's store, each
completion priced like the emulator's cost read-out (``_pricing.price_body``: the caller's
``totalCost`` or genai-prices at the call's ``requestTime``), summed over the rule's window
(the UTC hour, day or month holding the poll; a call counts in the window of its
``requestTime``). Which windows and metrics the service offers is not in the SDK's code (it
reads only ``windowEnd`` / ``resetsAt``): ``period`` is the emulator's choice.

The read-out (``GET /_emulator/budgets``) adds what the service knows and the SDK does not:
when each cap was crossed (``crossed_at``: the arrival of the record that reached it),
the calls stored after that (``past_cap_calls`` / ``past_cap_usd``: what a shadow rule would
have blocked, or what an enforced one let through while the SDK's cached rules were stale),
and when a poll first served the breach (``first_breach_served_at``). Times are epoch seconds.
Rules live in the server's memory (``PUT /_emulator/budgets`` per team): a restart forgets
them, as it zeroes ``stats()``; a reset of the store empties the spend.

Example:
    >>> rule = BudgetRule(rule_id="r1", name="cust_1 daily cap", threshold_usd=5.0,
    ...                   subscriber="cust_1")
    >>> wire = rule_to_wire(rule, _State(spent=6.0), datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
    >>> wire["breached"], wire["resetsAt"]
    (True, '2026-12-02T00:00:00Z')
    >>> wire["filters"]
    [{'dimension': 'SUBSCRIBER', 'operator': 'IS', 'value': 'cust_1'}]
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from showcase_lib.emulator._pricing import price_body
from showcase_lib.emulator._protocol import HandlerResult, HttpRequest, HttpResponse

#: The SDK's rule poll (enforcement.py:1014): the path before the team id.
ENFORCEMENT_PREFIX = "/v2/api/ai/enforcement-rules/"

Period = Literal["HOUR", "DAY", "MONTH"]
Action = Literal["BLOCK", "WARN_ONLY"]

#: Poll times kept for the read-out: ten minutes of one-second polls.
_POLL_TIMES_KEPT = 600
_POOLED = "*"  # the group key of a rule that is not grouped by subscriber


class BudgetRule(BaseModel):
    """One cost control: a cap in USD on the spend of a window, pooled or per subscriber.

    ``subscriber``: cap one customer (a ``SUBSCRIBER IS`` filter: the SDK compares it with the
    caller's subscriber email when the call carries one, else its id, enforcement.py:1723-1730,
    so tag the call with the same kind of value); ``per_subscriber``: cap every customer
    separately (``groupBy: SUBSCRIBER`` with a ``groupBreakdown``); neither: cap the team's
    whole spend. ``provider``: count only that provider's calls (a ``PROVIDER IS`` filter, in
    the SDK's upper-case label, e.g. ``OPENAI``). ``shadow_mode``: served as ``shadowMode``
    (the SDK lets every call through); ``action``: ``BLOCK`` or ``WARN_ONLY`` (the SDK logs a
    warning and lets the call through). ``period``: the UTC hour, day or month the cap
    resets at.

    Example:
        >>> BudgetRule(rule_id="r1", name="team cap", threshold_usd=100).period
        'DAY'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    threshold_usd: float = Field(gt=0, allow_inf_nan=False)
    period: Period = "DAY"
    subscriber: str | None = Field(default=None, min_length=1, max_length=200)
    provider: str | None = Field(default=None, min_length=1, max_length=60)
    per_subscriber: bool = False
    shadow_mode: bool = False
    action: Action = "BLOCK"
    deny_message: str | None = Field(default=None, max_length=500)


class BudgetConfig(BaseModel):
    """The admin route's body: a team's rules (``[]`` removes them).

    Example:
        >>> BudgetConfig(team_id="t1", rules=[]).rules
        []
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    team_id: str = Field(min_length=1, max_length=200)
    rules: list[BudgetRule]


class _Entry(NamedTuple):
    """One stored completion as the budgets see it."""

    seq: int
    received_at: float  # epoch seconds (the server's arrival time)
    at: datetime  # the call's requestTime: the window it counts in
    subscriber: str | None  # subscriber.id
    provider: str  # the body's provider, upper case (the SDK's label)
    email: str | None  # subscriber.email, trimmed and lower-cased
    cost: float  # USD (0 when unpriced)


@dataclass(slots=True)
class _State:
    """A rule's (or one subscriber's) spend in the current window and its crossing."""

    spent: float = 0.0
    calls: int = 0
    crossed_at: float | None = None
    past_cap_calls: int = 0
    past_cap_usd: float = 0.0

    def add(self, entry: _Entry, threshold: float) -> None:
        if self.spent >= threshold:  # already over: a call a perfect cap would have refused
            self.past_cap_calls += 1
            self.past_cap_usd += entry.cost
        self.spent += entry.cost
        self.calls += 1
        if self.crossed_at is None and self.spent >= threshold:
            self.crossed_at = entry.received_at


def window(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """The UTC window of ``period`` holding ``now``: [start, end).

    Example:
        >>> start, end = window("MONTH", datetime(2026, 12, 31, 23, tzinfo=timezone.utc))
        >>> start.isoformat(), end.isoformat()
        ('2026-12-01T00:00:00+00:00', '2027-01-01T00:00:00+00:00')
    """
    now = now.astimezone(timezone.utc)
    if period == "HOUR":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        return start, start + timedelta(days=1)
    start = start.replace(day=1)
    nxt = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, nxt


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _matches(rule: BudgetRule, entry: _Entry) -> bool:
    if rule.provider is not None and rule.provider.upper() != entry.provider:
        return False
    return rule.subscriber is None or rule.subscriber in (entry.subscriber, entry.email)


def _group(rule: BudgetRule, entry: _Entry) -> str | None:
    if not rule.per_subscriber:
        return _POOLED
    return entry.subscriber or entry.email  # the groupValue the SDK looks up: id, else email


def rule_states(rule: BudgetRule, entries: Iterable[_Entry], now: datetime) -> dict[str, _State]:
    """Spend per group (``"*"`` for a pooled rule) of ``entries`` in the window holding ``now``.

    Example:
        >>> t = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
        >>> es = [_Entry(i, float(i), t, "c1", "OPENAI", None, 2.0) for i in range(4)]
        >>> s = rule_states(BudgetRule(rule_id="r", name="n", threshold_usd=3), es, t)["*"]
        >>> s.spent, s.crossed_at, s.past_cap_calls
        (8.0, 1.0, 2)
    """
    start, end = window(rule.period, now)
    states: dict[str, _State] = {}
    for entry in entries:
        if not start <= entry.at < end or not _matches(rule, entry):
            continue
        key = _group(rule, entry)
        if key is not None:
            states.setdefault(key, _State()).add(entry, rule.threshold_usd)
    if not rule.per_subscriber:
        states.setdefault(_POOLED, _State())
    return states


def rule_to_wire(
    rule: BudgetRule, pooled: _State, now: datetime, groups: dict[str, _State] | None = None
) -> dict[str, Any]:
    """The compiled rule as the SDK parses it (the module docstring's fields).

    Example:
        >>> t = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
        >>> r = BudgetRule(rule_id="r", name="n", threshold_usd=1, per_subscriber=True)
        >>> rule_to_wire(r, _State(spent=3.0), t, {"c1": _State(spent=2.0)})["groupBreakdown"]
        [{'groupValue': 'c1', 'currentValue': 2.0, 'breached': True}]
    """
    start, end = window(rule.period, now)
    threshold = rule.threshold_usd
    breakdown = [
        {"groupValue": k, "currentValue": round(s.spent, 9), "breached": s.spent >= threshold}
        for k, s in sorted((groups or {}).items())
        if rule.per_subscriber
    ]
    wire: dict[str, Any] = {
        "ruleId": rule.rule_id,
        "name": rule.name,
        "metric": "TOTAL_COST",
        "period": rule.period,
        "threshold": threshold,
        "currentValue": round(pooled.spent, 9),
        # a grouped rule is breached when one subscriber is (the SDK reads the entries)
        "breached": any(g["breached"] for g in breakdown)
        if rule.per_subscriber
        else pooled.spent >= threshold,
        "shadowMode": rule.shadow_mode,
        "action": rule.action,
        "groupBy": "SUBSCRIBER" if rule.per_subscriber else None,
        "groupBreakdown": None,
        "filters": [],
        "windowStart": _iso(start),
        # the last instant of the window, as the service writes it (enforcement.py:192-199)
        "windowEnd": _iso(end - timedelta(microseconds=1)),
        "resetsAt": _iso(end),
    }
    for dimension, value in (("SUBSCRIBER", rule.subscriber), ("PROVIDER", rule.provider)):
        if value is not None:
            wire["filters"].append({"dimension": dimension, "operator": "IS", "value": value})
    if rule.per_subscriber:
        wire["groupBreakdown"] = breakdown
    if rule.deny_message:
        wire["denyMessage"] = rule.deny_message
    return wire


def _entry(seq: int, received_at: float, text: str) -> _Entry:
    body = json.loads(text)
    sub = body.get("subscriber") if isinstance(body.get("subscriber"), dict) else {}
    sid, email = sub.get("id"), sub.get("email")
    try:
        cost = price_body(body)
        at = datetime.fromisoformat(str(cost["priced_at"]).replace("Z", "+00:00"))
        at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except (KeyError, TypeError, ValueError):  # no readable requestTime: counted at arrival
        cost = {"total": 0.0}
        at = datetime.fromtimestamp(received_at, timezone.utc)
    return _Entry(
        seq,
        received_at,
        at,
        sid if isinstance(sid, str) and sid else None,
        str(body.get("provider") or "").upper(),
        email.strip().lower() if isinstance(email, str) and email.strip() else None,
        float(cost["total"] or 0.0),
    )


@dataclass(slots=True)
class _Polls:
    count: int = 0
    times: list[float] = field(default_factory=list)
    first_breach: dict[tuple[str, str], float] = field(default_factory=dict)


class Budgets:
    """The emulator's cost controls: rules per team, the store's spend, the polls served.

    Reads the store file with its own read-only connection, off the event loop (the server
    calls ``payload`` / ``readout`` in an executor), and prices each completion once.

    Example:
        >>> import os, tempfile
        >>> from showcase_lib.emulator._store import Store
        >>> path = os.path.join(tempfile.mkdtemp(), "e.db"); Store(path).close()
        >>> b = Budgets(path)
        >>> _ = b.configure(BudgetConfig(team_id="t", rules=[
        ...     BudgetRule(rule_id="r", name="cap", threshold_usd=1)]))
        >>> b.payload("t")["rules"][0]["breached"], b.payload("other")
        (False, None)
    """

    def __init__(self, db_path: str | os.PathLike[str]):
        self._db_path = os.fspath(db_path)
        self._lock = threading.Lock()
        self._teams: dict[str, tuple[BudgetRule, ...]] = {}
        self._ledger: list[_Entry] = []
        self._polls = _Polls()

    def configure(self, config: BudgetConfig) -> dict[str, Any]:
        """Replace a team's rules; return the read-out."""
        ids = [r.rule_id for r in config.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rules: rule_id values must be unique, got {ids!r}")
        with self._lock:
            if config.rules:
                self._teams[config.team_id] = tuple(config.rules)
            else:
                self._teams.pop(config.team_id, None)
            for key in [k for k in self._polls.first_breach if k[0] == config.team_id]:
                del self._polls.first_breach[key]
        return self.readout()

    def _catch_up(self) -> list[_Entry]:
        """The ledger, with the completions stored since the last read priced and added."""
        ledger = self._ledger
        if not os.path.exists(self._db_path):
            return ledger
        conn = sqlite3.connect(f"file:{self._db_path}?mode=ro", uri=True, timeout=30)
        try:
            if ledger:  # a reset of the store empties it: start over
                row = conn.execute(
                    "SELECT received_at FROM events WHERE seq = ?", (ledger[-1].seq,)
                ).fetchone()
                if row is None or row[0] != ledger[-1].received_at:
                    ledger = []
            last = ledger[-1].seq if ledger else 0
            rows = conn.execute(
                "SELECT seq, received_at, body FROM events WHERE kind = 'completion' AND seq > ? "
                "ORDER BY seq",
                (last,),
            ).fetchall()
        finally:
            conn.close()
        ledger = ledger + [_entry(*row) for row in rows] if rows else ledger
        self._ledger = ledger
        return ledger

    def payload(
        self, team_id: str, rule_id: str | None = None, now: datetime | None = None
    ) -> dict[str, Any] | None:
        """The SDK's poll answer for ``team_id`` (``None``: no rules, a 204); counts the poll."""
        now = now or datetime.now(timezone.utc)
        with self._lock:
            rules = self._teams.get(team_id)
            ledger = self._catch_up() if rules else self._ledger
            polled = time.time()  # when the answer leaves, its spend read and priced
            self._polls.count += 1
            self._polls.times = [*self._polls.times[-(_POLL_TIMES_KEPT - 1) :], polled]
            if not rules:
                return None
            out = []
            for rule in rules:
                if rule_id is not None and rule.rule_id != rule_id:
                    continue
                states = rule_states(rule, ledger, now)
                wire = rule_to_wire(rule, _pooled(states), now, states)
                if wire["breached"] or any(g["breached"] for g in wire["groupBreakdown"] or ()):
                    self._polls.first_breach.setdefault((team_id, rule.rule_id), polled)
                out.append(wire)
        return {"rules": out, "compiledAt": _iso(now)}

    def readout(self, now: datetime | None = None) -> dict[str, Any]:
        """Every rule with its spend, crossing and calls past the cap, and the polls served."""
        now = now or datetime.now(timezone.utc)
        with self._lock:
            ledger = self._catch_up()
            rules = []
            for team, team_rules in sorted(self._teams.items()):
                for rule in team_rules:
                    states = rule_states(rule, ledger, now)
                    pooled = _pooled(states)
                    start, end = window(rule.period, now)
                    rules.append(
                        {
                            "team_id": team,
                            **rule.model_dump(),
                            "window_start": _iso(start),
                            "resets_at": _iso(end),
                            "spent_usd": pooled.spent,
                            "calls": pooled.calls,
                            "breached": pooled.spent >= rule.threshold_usd
                            or any(s.spent >= rule.threshold_usd for s in states.values()),
                            "crossed_at": pooled.crossed_at,
                            "past_cap_calls": pooled.past_cap_calls,
                            "past_cap_usd": pooled.past_cap_usd,
                            "first_breach_served_at": self._polls.first_breach.get(
                                (team, rule.rule_id)
                            ),
                            "groups": {
                                k: {
                                    "spent_usd": s.spent,
                                    "calls": s.calls,
                                    "crossed_at": s.crossed_at,
                                    "past_cap_calls": s.past_cap_calls,
                                    "past_cap_usd": s.past_cap_usd,
                                }
                                for k, s in sorted(states.items())
                            },
                        }
                    )
            polls = {"count": self._polls.count, "times": list(self._polls.times)}
        return {"rules": rules, "polls": polls}

    # ------------------------------------------------------------------ HTTP
    def rules_route(self, req: HttpRequest, *, authorized: bool) -> HandlerResult:
        """``GET /v2/api/ai/enforcement-rules/{teamId}[?ruleId=]``: 200 with the rules, 204
        without, 401 without the key, 404 for a malformed team id, 405 for another method."""
        if req.method not in ("GET", "HEAD"):
            return _error(
                405,
                "method_not_allowed",
                f"{req.method} is not allowed; use GET",
                {"Allow": "GET, HEAD"},
            )
        if not authorized:
            return _error(401, "unauthorized", "the enforcement rules need the x-api-key header")
        team = unquote(req.path[len(ENFORCEMENT_PREFIX) :])
        if not team or "/" in team:
            return _error(404, "not_found", f"no team id in {req.path[:200]!r}")
        rule_id = parse_qs(req.query).get("ruleId", [None])[-1]
        return self._later(lambda: self.payload(team, rule_id), no_content_if_none=True)

    def admin_route(self, req: HttpRequest) -> HandlerResult:
        """``GET /_emulator/budgets``: the read-out; ``PUT|POST`` a ``BudgetConfig``."""
        if req.method in ("PUT", "POST"):
            try:
                config = BudgetConfig.model_validate_json(req.body or b"{}")
            except ValidationError as exc:
                errors = [
                    {
                        "field": ".".join(map(str, e["loc"])) or "(body)",
                        "reason": e["msg"],
                        "value": repr(e.get("input"))[:60],
                    }
                    for e in exc.errors()
                ]
                message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
                return _error(400, "bad_request", message, errors=errors)
            return self._later(lambda: self.configure(config))
        return self._later(self.readout)

    @staticmethod
    def _later(fn: Any, *, no_content_if_none: bool = False) -> HandlerResult:
        import asyncio

        async def run() -> HttpResponse:
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, fn)
            except ValueError as exc:
                return _error(400, "bad_request", str(exc))
            if result is None and no_content_if_none:
                return HttpResponse(204, b"")
            return HttpResponse(200, json.dumps(result).encode())

        return run()


def _pooled(states: dict[str, _State]) -> _State:
    """The rule-level state: the pooled group, or the sum over subscribers."""
    if _POOLED in states:
        return states[_POOLED]
    total = _State()
    for s in states.values():
        total.spent += s.spent
        total.calls += s.calls
        total.past_cap_calls += s.past_cap_calls
        total.past_cap_usd += s.past_cap_usd
        if s.crossed_at is not None:
            total.crossed_at = min(total.crossed_at or s.crossed_at, s.crossed_at)
    return total


def _error(
    status: int,
    error: str,
    message: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    payload: dict[str, Any] = {"error": error, "message": message}
    if errors:
        payload["errors"] = errors
    return HttpResponse(status, json.dumps(payload).encode(), headers or {})
