"""Metering: record <-> wire mapping, HTTP transport, trackers, retries, breaker, spool, backfill.

The same code talks to the in-process emulator (notebooks, tests) and to the real Revenium
service: set ``REVENIUM_METERING_API_KEY`` and ``REVENIUM_METERING_BASE_URL`` and build the
settings with ``Settings.from_env()``. The key is never printed.

Example:
    >>> from showcase_lib.metering import Settings, Tracker, metadata_context
    >>> settings = Settings(api_key="hak_demo", base_url="http://127.0.0.1:8787")
    >>> settings.completions_url
    'http://127.0.0.1:8787/meter/v2/ai/completions'

Typical use (a script, a web app, a notebook)::

    tracker = Tracker(Settings.from_env(), spool="/var/lib/app/metering.db")
    with metadata_context(organization_id="org_001", product_id="product_a"):
        answer = call_the_model(...)
        tracker.track("openai", "gpt-4o-mini", 812, 164, 930, customer_id="cust_0001",
                      feature_id="chat")
    tracker.close()          # delivers or durably spools everything
"""

from showcase_lib.metering.batch import (
    BackfillReport,
    Checkpoint,
    backfill,
    compression_stats,
    idempotency_key_for,
)
from showcase_lib.metering.breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    FakeClock,
    Transition,
)
from showcase_lib.metering.context import (
    HIERARCHY,
    TagError,
    add_enricher,
    check_tags,
    current_metadata,
    metadata_context,
    remove_enricher,
    run_in_context,
    submit_with_context,
)
from showcase_lib.metering.ratelimit import TokenBucket
from showcase_lib.metering.retry import (
    DeliveryError,
    PermanentError,
    RetryableError,
    RetryPolicy,
    backoff_delays,
    classify,
    parse_retry_after,
)
from showcase_lib.metering.settings import Secret, Settings, normalize_base_url
from showcase_lib.metering.spool import Envelope, MemorySpool, Spool
from showcase_lib.metering.tracker import Tracker, TrackerStats
from showcase_lib.metering.transport import SyncSender, make_transport

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "HIERARCHY",
    "OPEN",
    "BackfillReport",
    "Checkpoint",
    "CircuitBreaker",
    "DeliveryError",
    "Envelope",
    "FakeClock",
    "MemorySpool",
    "PermanentError",
    "RetryPolicy",
    "RetryableError",
    "Secret",
    "Settings",
    "Spool",
    "SyncSender",
    "TagError",
    "TokenBucket",
    "Tracker",
    "TrackerStats",
    "Transition",
    "add_enricher",
    "backfill",
    "backoff_delays",
    "check_tags",
    "classify",
    "compression_stats",
    "current_metadata",
    "idempotency_key_for",
    "make_transport",
    "metadata_context",
    "normalize_base_url",
    "parse_retry_after",
    "remove_enricher",
    "run_in_context",
    "submit_with_context",
]
