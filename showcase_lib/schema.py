"""The record: one row per AI call, shared by every stop of the book.

The simulator produces it, the emulator's store gives it back (after mapping from the wire
form), ``showcase_lib.io.load_calls`` reads it from CSV or Parquet, and every analysis takes it.

Example:
    >>> from showcase_lib.schema import RECORD_COLUMNS, empty_calls
    >>> RECORD_COLUMNS[:3]
    ('timestamp', 'call_id', 'provider')
    >>> list(empty_calls().columns) == list(RECORD_COLUMNS) + list(EXTRA_COLUMNS)
    True
"""

from __future__ import annotations

from typing import Final

import pandas as pd

#: The showcase plan's CSV schema, in its column order.
RECORD_COLUMNS: Final[tuple[str, ...]] = (
    "timestamp",
    "call_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_ms",
    "customer_id",
    "subscription_tier",
    "organization_id",
    "product_id",
    "feature_id",
    "task_type",
    "environment",
    "request_id",
    "trace_id",
    "user_agent",
    "session_id",
)

#: Extras the analyses need, always after the plan's columns.
EXTRA_COLUMNS: Final[tuple[str, ...]] = ("status", "stop_reason", "region")

ALL_COLUMNS: Final[tuple[str, ...]] = RECORD_COLUMNS + EXTRA_COLUMNS

#: Columns that must be present in any input file; the extras are optional on input.
REQUIRED_COLUMNS: Final[tuple[str, ...]] = RECORD_COLUMNS

INT_COLUMNS: Final[tuple[str, ...]] = ("input_tokens", "output_tokens", "latency_ms")
FLOAT_COLUMNS: Final[tuple[str, ...]] = ("cost_usd",)
TIME_COLUMNS: Final[tuple[str, ...]] = ("timestamp",)

#: Low-cardinality text columns, stored as pandas ``category`` to keep 10M rows small.
#: Group by them with ``observed=True``.
CATEGORY_COLUMNS: Final[tuple[str, ...]] = (
    "provider",
    "model",
    "customer_id",
    "subscription_tier",
    "organization_id",
    "product_id",
    "feature_id",
    "task_type",
    "environment",
    "user_agent",
    "status",
    "stop_reason",
    "region",
)

#: High-cardinality identifiers, stored as Arrow-backed strings (compact, fast).
ID_COLUMNS: Final[tuple[str, ...]] = ("call_id", "request_id", "trace_id", "session_id")

#: pandas dtype of every column.
DTYPES: Final[dict[str, str]] = {
    "timestamp": "datetime64[ns, UTC]",
    **{c: "int64" for c in INT_COLUMNS},
    **{c: "float64" for c in FLOAT_COLUMNS},
    **{c: "category" for c in CATEGORY_COLUMNS},
    **{c: "string[pyarrow]" for c in ID_COLUMNS},
}

# Allowed values used across the library (the metadata schema of Part C refines them).
SUBSCRIPTION_TIERS: Final[tuple[str, ...]] = ("starter", "pro", "enterprise")
ENVIRONMENTS: Final[tuple[str, ...]] = ("production", "staging", "development")
STATUSES: Final[tuple[str, ...]] = ("success", "error", "timeout")
#: Revenium's ``stopReason`` enum (see the metering API reference).
STOP_REASONS: Final[tuple[str, ...]] = (
    "END",
    "END_SEQUENCE",
    "TIMEOUT",
    "TOKEN_LIMIT",
    "COST_LIMIT",
    "COMPLETION_LIMIT",
    "ERROR",
    "CANCELLED",
)


#: What each column means (shown as a table in the book).
DESCRIPTIONS: Final[dict[str, str]] = {
    "timestamp": "when the AI call started (UTC)",
    "call_id": "the call's own unique id; Revenium's transactionId",
    "provider": "provider slug: openai, anthropic, google, mistral, cohere, aws-bedrock, azure-openai",
    "model": "model name as the provider bills it",
    "input_tokens": "prompt tokens billed",
    "output_tokens": "completion tokens billed",
    "cost_usd": "cost of the call in US dollars, from the price catalog",
    "latency_ms": "time from request to full response, milliseconds",
    "customer_id": "the paying customer (Revenium's subscriber id)",
    "subscription_tier": "the customer's plan: starter, pro or enterprise",
    "organization_id": "the customer's organization",
    "product_id": "your product that made the call",
    "feature_id": "the product feature that made the call",
    "task_type": "what the call did: chat, summarization, code_generation, ...",
    "environment": "production, staging or development",
    "request_id": "the user request that caused the call (one request may make several calls)",
    "trace_id": "the distributed trace the call belongs to",
    "user_agent": "the client app and version",
    "session_id": "the end user's session or conversation",
    "status": "extra: success, error or timeout",
    "stop_reason": "extra: Revenium's stopReason (END, ERROR, TIMEOUT, TOKEN_LIMIT, ...)",
    "region": "extra: the provider region that served the call",
}


def schema_table() -> pd.DataFrame:
    """Return the record's columns with dtype and meaning, in order (for the book).

    Example:
        >>> schema_table().loc[0, "column"]
        'timestamp'
    """
    return pd.DataFrame(
        {
            "column": list(ALL_COLUMNS),
            "dtype": [DTYPES[c] for c in ALL_COLUMNS],
            "in plan's CSV": [c in RECORD_COLUMNS for c in ALL_COLUMNS],
            "meaning": [DESCRIPTIONS[c] for c in ALL_COLUMNS],
        }
    )


def empty_calls() -> pd.DataFrame:
    """Return an empty frame with every column of the record, in order, with its dtype.

    Example:
        >>> empty_calls().dtypes["cost_usd"]
        dtype('float64')
    """
    return pd.DataFrame({c: pd.Series(dtype=DTYPES[c]) for c in ALL_COLUMNS})
