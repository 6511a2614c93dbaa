"""Metering: the trackers, retries, breaker, spool and backfill that deliver records.

The same code talks to the in-process emulator (notebooks, tests) and to the real Revenium
service: set ``REVENIUM_METERING_API_KEY`` and ``REVENIUM_METERING_BASE_URL`` and build the
settings with ``Settings.from_env()``. The key is never printed. The record <-> wire mapping
lives in :mod:`showcase_lib.wire`.

Options travel in small frozen groups (like httpx's ``Limits`` and ``Timeout``):
:class:`Delivery` (transport, concurrency, batching, rate limit, :class:`RetryPolicy`,
:class:`BreakerPolicy`), :class:`Overflow` (queue bound and policy) and, for a backfill,
:class:`BackfillOptions`. :func:`query_costs` asks the service (or the emulator) what the
metered calls cost, by model, organization, product or credential, as a DataFrame.

Example:
    >>> from showcase_lib.metering import Settings, Tracker, metadata_context
    >>> settings = Settings(api_key="hak_demo", base_url="http://127.0.0.1:8787")
    >>> settings.completions_url
    'http://127.0.0.1:8787/meter/v2/ai/completions'

Typical use (a script, a web app, a notebook)::

    tracker = Tracker(Settings.from_env(), spool="/var/lib/app/metering.db",
                      delivery=Delivery(retry=RetryPolicy(max_retries=6)))
    with metadata_context(organization_id="org_001", product_id="product_a"):
        answer = call_the_model(...)
        tracker.track("openai", "gpt-4o-mini", 812, 164, 930, customer_id="cust_0001",
                      feature_id="chat")
    tracker.close()          # delivers or durably spools everything
"""

from showcase_lib.metering._backfill import (
    BackfillOptions,
    BackfillReport,
    backfill,
    idempotency_key_for,
)
from showcase_lib.metering._breaker import BreakerPolicy, CircuitBreaker, FakeClock
from showcase_lib.metering._config import Delivery, Overflow
from showcase_lib.metering._context import (
    TagError,
    add_enricher,
    metadata_context,
    remove_enricher,
    submit_with_context,
)
from showcase_lib.metering._queries import query_costs
from showcase_lib.metering._ratelimit import TokenBucket
from showcase_lib.metering._retry import DeliveryError, PermanentError, RetryableError, RetryPolicy
from showcase_lib.metering._settings import Settings
from showcase_lib.metering._spool import MemorySpool, Spool
from showcase_lib.metering._stats import TrackerStats
from showcase_lib.metering._tracker import Tracker

__all__ = [
    "BackfillOptions",
    "BackfillReport",
    "BreakerPolicy",
    "CircuitBreaker",
    "Delivery",
    "DeliveryError",
    "FakeClock",
    "MemorySpool",
    "Overflow",
    "PermanentError",
    "RetryPolicy",
    "RetryableError",
    "Settings",
    "Spool",
    "TagError",
    "TokenBucket",
    "Tracker",
    "TrackerStats",
    "add_enricher",
    "backfill",
    "idempotency_key_for",
    "metadata_context",
    "query_costs",
    "remove_enricher",
    "submit_with_context",
]
