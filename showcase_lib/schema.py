"""The record: one row per AI call, shared by every stop of the book, described by one table.

``COLUMNS`` is the single declarative table of the record: each column's name, pandas dtype,
wire field, kind of value, limits, whether it is required, and what it means. Everything else
is derived from it: the column lists and dtypes here, the wire mappers and the completion-body
validator (``showcase_lib.wire``), the required columns of ``showcase_lib.io``, the metadata
fields' wire names and lengths (``showcase_lib.metadata``) and the book's tables.

Required, deliberately at two levels (``Column.required``):

- ``"always"``: a call cannot be metered without it (timestamp, call_id, provider, model,
  input_tokens, output_tokens, latency_ms). The wire needs these and every path checks them.
- ``"in files"``: ``cost_usd`` and ``customer_id`` may be absent on the wire (Revenium prices a
  call that carries no cost; the official SDK may send no subscriber), so the wire mappers
  accept them missing; but a *file* loaded for analysis must carry them
  (``showcase_lib.io``), because every analysis of Parts B-D sums cost by customer and a
  missing value there would silently understate a margin.

Example:
    >>> from showcase_lib.schema import COLUMNS, ALL_COLUMNS, empty_calls
    >>> ALL_COLUMNS[:3]
    ('timestamp', 'call_id', 'provider')
    >>> [c.wire for c in COLUMNS[:3]]
    ['requestTime', 'transactionId', 'provider']
    >>> list(empty_calls().columns) == list(ALL_COLUMNS)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:  # imported where used: the emulator's server reads the table without pandas
    import pandas as pd

__all__ = [
    "ALL_COLUMNS",
    "COLUMNS",
    "DTYPES",
    "SERVICE_TIER_MULTIPLIERS",
    "Column",
    "empty_calls",
    "schema_table",
]

#: How a value travels and is checked on the wire (``showcase_lib.wire`` turns each kind into
#: a strict pydantic type and a converter): ``time`` ISO 8601 with a zone; ``text`` a non-empty
#: string; ``tag`` a string of at most ``max_length`` characters (a Revenium tag column);
#: ``free`` a string with no length rule (our extension keys); ``count`` an int64 >= 0;
#: ``money`` a finite number >= 0; ``enum`` one of ``values``.
Kind = Literal["time", "text", "tag", "free", "count", "money", "enum"]
Required = Literal["always", "in files", "no"]

#: Revenium stores text tags in 255-character columns (the official SDK enforces it too).
TAG_MAX_LENGTH: Final[int] = 255
#: productName: Revenium derives a longer display name from it inside a 255 column.
PRODUCT_MAX_LENGTH: Final[int] = 224

# Allowed values (the metadata schema of Part C refines the text tags).
SUBSCRIPTION_TIERS: Final[tuple[str, ...]] = ("starter", "pro", "enterprise")
ENVIRONMENTS: Final[tuple[str, ...]] = ("production", "staging", "development")
STATUSES: Final[tuple[str, ...]] = ("success", "error", "timeout")
#: The processing tier that served (and prices) the call: standard, or the discounted batch and
#: flex tiers, or the premium priority tier (OpenAI ``service_tier``, Anthropic/Gemini batch).
SERVICE_TIERS: Final[tuple[str, ...]] = ("standard", "batch", "flex", "priority")
#: What each service tier multiplies the standard price of every token kind by, where the price
#: package (genai-prices) has no price of its own for the tier. One table for the library's
#: pricing, the wire (``costMultiplier``) and the emulator (plain floats: no pandas needed).
#: batch 0.5: OpenAI Batch API "50% off" (help.openai.com/en/articles/9197833), Anthropic Message
#: Batches 50% (docs.anthropic.com/en/docs/build-with-claude/batch-processing), Gemini Batch Mode
#: 50% (ai.google.dev/gemini-api/docs/batch-mode). flex 0.5: OpenAI Flex processing is billed at
#: Batch rates (platform.openai.com/docs/guides/flex-processing). priority 2.0: OpenAI Priority
#: processing, gpt-5 $2.50 vs $1.25 input per MTok (openai.com/api/pricing); an approximation
#: where the package is silent (Gemini's Priority is about 1.8x).
SERVICE_TIER_MULTIPLIERS: Final[dict[str, float]] = {
    "standard": 1.0,
    "batch": 0.5,
    "flex": 0.5,
    "priority": 2.0,
}
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


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the record: its type, its wire field, its rules and its meaning.

    ``wire`` is the completion-body field (dotted for a nested one, ``subscriber.id``);
    ``read_also`` lists deprecated wire names read back when ``wire`` is absent; ``values``
    are the allowed values (checked by ``io`` on load, and on the wire when ``kind`` is
    ``"enum"``); ``in_plan`` marks the showcase plan's nineteen CSV columns; ``default`` is the
    value a record, a file or a wire body without the column means (0 tokens, the standard
    tier), so that files written before the column existed still load; ``otel`` is the
    OpenTelemetry GenAI attribute that carries the same value, where one exists
    (open-telemetry/semantic-conventions, ``docs/registry/attributes/gen-ai.md``).

    Example:
        >>> col = COLUMN["product_id"]
        >>> col.wire, col.kind, col.max_length, col.read_also
        ('productName', 'tag', 224, ('productId',))
    """

    name: str
    dtype: str
    kind: Kind
    wire: str
    description: str
    wire_note: str = "unchanged"
    required: Required = "no"
    max_length: int | None = None
    values: tuple[str, ...] = ()
    read_also: tuple[str, ...] = ()
    in_plan: bool = True
    default: int | str | None = None
    otel: str = ""


_TIME = "datetime64[ns, UTC]"
_CAT = "category"
_ID = "string[pyarrow]"  # high-cardinality identifiers: Arrow-backed strings (compact, fast)
# low-cardinality text is pandas ``category`` (10M rows stay small; group with observed=True)

#: The record, in column order: the plan's nineteen CSV columns, then the extras.
#:
#: Token rule (inclusive, as OpenTelemetry GenAI's ``gen_ai.usage.input_tokens`` and
#: genai-prices' ``Usage``): ``input_tokens`` counts every prompt token, cached or not, so it
#: includes ``cache_read_tokens`` and ``cache_write_tokens``; ``output_tokens`` includes
#: ``reasoning_tokens``; ``cache_write_1h_tokens`` is the 1-hour share of ``cache_write_tokens``
#: (the rest was written with the 5-minute TTL). Revenium's wire count is not inclusive
#: (``input_tokens``' wire note; ``showcase_lib.wire`` converts both ways).
COLUMNS: Final[tuple[Column, ...]] = (
    Column(
        name="timestamp",
        dtype=_TIME,
        kind="time",
        wire="requestTime",
        description="when the AI call started (UTC)",
        wire_note="UTC ISO 8601 with Z; fractional seconds only when present",
        required="always",
    ),
    Column(
        name="call_id",
        dtype=_ID,
        kind="text",
        wire="transactionId",
        description="the call's own unique id; Revenium's transactionId",
        wire_note="the call's own id; anchors deduplication",
        required="always",
    ),
    Column(
        name="provider",
        dtype=_CAT,
        kind="text",
        wire="provider",
        description="provider slug: openai, anthropic, google, mistral, cohere, aws-bedrock, "
        "azure-openai",
        wire_note="slug -> SDK name: openai->OpenAI, anthropic->Anthropic, google->Google, "
        "mistral->Mistral, cohere->Cohere, aws-bedrock->AWS, azure-openai->Azure; "
        "others unchanged",
        required="always",
        otel="gen_ai.provider.name",
    ),
    Column(
        name="model",
        dtype=_CAT,
        kind="text",
        wire="model",
        description="model name as the provider bills it",
        required="always",
        otel="gen_ai.request.model",
    ),
    Column(
        name="input_tokens",
        dtype="int64",
        kind="count",
        wire="inputTokenCount",
        description="prompt tokens billed, cached ones included (cache reads and writes)",
        wire_note="integer >= 0; Revenium's inputTokenCount is not inclusive: it is input_tokens "
        "- cache_write_tokens - cache_read_tokens, except for openai, azure-openai, google, groq "
        "and xai, whose reads stay in (the service subtracts them itself); read back the same "
        "way (revenium-python-sdk 0.12.0, _core/cache_tokens.py billable_input_tokens)",
        required="always",
        otel="gen_ai.usage.input_tokens",
    ),
    Column(
        name="output_tokens",
        dtype="int64",
        kind="count",
        wire="outputTokenCount",
        description="completion tokens billed, reasoning tokens included",
        wire_note="integer >= 0",
        required="always",
        otel="gen_ai.usage.output_tokens",
    ),
    Column(
        name="cost_usd",
        dtype="float64",
        kind="money",
        wire="totalCost",
        description="cost of the call in US dollars, from the price catalog",
        wire_note="cost override in USD; omitted when unknown (NaN) so Revenium prices it; "
        "read back from inputTokenCost + outputTokenCost when absent",
        required="in files",
    ),
    Column(
        name="latency_ms",
        dtype="int64",
        kind="count",
        wire="requestDuration",
        description="time from request to full response, milliseconds",
        wire_note="milliseconds",
        required="always",
    ),
    Column(
        name="customer_id",
        dtype=_CAT,
        kind="tag",
        wire="subscriber.id",
        description="the paying customer (Revenium's subscriber id)",
        wire_note="the paying customer",
        required="in files",
        max_length=TAG_MAX_LENGTH,
    ),
    Column(
        name="subscription_tier",
        dtype=_CAT,
        kind="tag",
        wire="subscriptionTier",
        description="the customer's plan: starter, pro or enterprise",
        wire_note="starter / pro / enterprise",
        max_length=TAG_MAX_LENGTH,
        values=SUBSCRIPTION_TIERS,
    ),
    Column(
        name="organization_id",
        dtype=_CAT,
        kind="tag",
        wire="organizationName",
        description="the customer's organization",
        wire_note="replaces the deprecated organizationId (read as fallback)",
        max_length=TAG_MAX_LENGTH,
        read_also=("organizationId",),
    ),
    Column(
        name="product_id",
        dtype=_CAT,
        kind="tag",
        wire="productName",
        description="your product that made the call",
        wire_note="replaces the deprecated productId (read as fallback); at most 224 characters",
        max_length=PRODUCT_MAX_LENGTH,
        read_also=("productId",),
    ),
    Column(
        name="feature_id",
        dtype=_CAT,
        kind="tag",
        wire="agent",
        description="the product feature that made the call",
        wire_note="the product feature that made the call (Revenium's attribution dimension)",
        max_length=TAG_MAX_LENGTH,
        otel="gen_ai.agent.name",
    ),
    Column(
        name="task_type",
        dtype=_CAT,
        kind="tag",
        wire="taskType",
        description="what the call did: chat, summarization, code_generation, ...",
        max_length=TAG_MAX_LENGTH,
    ),
    Column(
        name="environment",
        dtype=_CAT,
        kind="tag",
        wire="environment",
        description="production, staging or development",
        max_length=TAG_MAX_LENGTH,
        values=ENVIRONMENTS,
    ),
    Column(
        name="request_id",
        dtype=_ID,
        kind="free",
        wire="requestId",
        description="the user request that caused the call (one request may make several calls)",
        wire_note="extension key (no Revenium field)",
    ),
    Column(
        name="trace_id",
        dtype=_ID,
        kind="tag",
        wire="traceId",
        description="the distributed trace the call belongs to",
        max_length=TAG_MAX_LENGTH,
    ),
    Column(
        name="user_agent",
        dtype=_CAT,
        kind="free",
        wire="userAgent",
        description="the client app and version",
        wire_note="extension key (no Revenium field)",
    ),
    Column(
        name="session_id",
        dtype=_ID,
        kind="free",
        wire="sessionId",
        description="the end user's session or conversation",
        wire_note="extension key (no Revenium field)",
        otel="gen_ai.conversation.id",
    ),
    Column(
        name="status",
        dtype=_CAT,
        kind="free",
        wire="status",
        description="extra: success, error or timeout",
        wire_note="extension key, always sent (null when unknown); implied by stopReason if absent",
        values=STATUSES,
        in_plan=False,
    ),
    Column(
        name="stop_reason",
        dtype=_CAT,
        kind="enum",
        wire="stopReason",
        description="extra: Revenium's stopReason (END, ERROR, TIMEOUT, TOKEN_LIMIT, ...)",
        wire_note="required on the wire; implied by status when empty (then "
        "stopReasonDerived=true)",
        values=STOP_REASONS,
        in_plan=False,
    ),
    Column(
        name="region",
        dtype=_CAT,
        kind="tag",
        wire="region",
        description="extra: the provider region that served the call",
        max_length=TAG_MAX_LENGTH,
        in_plan=False,
    ),
    Column(
        name="cache_read_tokens",
        dtype="int64",
        kind="count",
        wire="cacheReadTokenCount",
        description="extra: prompt tokens read from the provider's prompt cache (part of "
        "input_tokens; billed at about a tenth of the input price)",
        wire_note="integer >= 0; omitted when 0 (absent reads as 0)",
        in_plan=False,
        default=0,
        otel="gen_ai.usage.cache_read.input_tokens",
    ),
    Column(
        name="cache_write_tokens",
        dtype="int64",
        kind="count",
        wire="cacheCreationTokenCount",
        description="extra: prompt tokens written to the prompt cache (part of input_tokens; "
        "billed at 1.25x the input price for a 5-minute TTL, 2x for 1 hour)",
        wire_note="integer >= 0, every TTL; omitted when 0; its 5-minute share (minus the "
        "1-hour one) also goes as cacheCreation5mTokenCount; absent: read as 5m + 1h",
        in_plan=False,
        default=0,
        otel="gen_ai.usage.cache_creation.input_tokens",
    ),
    Column(
        name="cache_write_1h_tokens",
        dtype="int64",
        kind="count",
        wire="cacheCreation1hTokenCount",
        description="extra: the share of cache_write_tokens written with the 1-hour TTL",
        wire_note="integer >= 0, at most cache_write_tokens; omitted when 0",
        in_plan=False,
        default=0,
    ),
    Column(
        name="reasoning_tokens",
        dtype="int64",
        kind="count",
        wire="reasoningTokenCount",
        description="extra: hidden reasoning tokens (part of output_tokens, billed as output)",
        wire_note="integer >= 0, at most output_tokens; omitted when 0",
        in_plan=False,
        default=0,
        otel="gen_ai.usage.reasoning.output_tokens",
    ),
    Column(
        name="service_tier",
        dtype=_CAT,
        kind="enum",
        wire="actualServiceTier",
        description="extra: the processing tier that priced the call: standard, batch, flex "
        "or priority",
        wire_note="standard: nothing sent; otherwise also pricingTier (BATCH for batch, "
        "STANDARD otherwise) and, for flex and priority, costMultiplier "
        "(SERVICE_TIER_MULTIPLIERS); read from actualServiceTier, else pricingTier",
        values=SERVICE_TIERS,
        in_plan=False,
        default="standard",
        otel="openai.response.service_tier",
    ),
)

#: Column name -> its ``Column``.
COLUMN: Final[dict[str, Column]] = {c.name: c for c in COLUMNS}
ALL_COLUMNS: Final[tuple[str, ...]] = tuple(COLUMN)
#: The showcase plan's CSV schema, in its column order (every input file must have them).
RECORD_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.in_plan)
#: Extras the analyses need, always after the plan's columns (optional as input columns).
EXTRA_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if not c.in_plan)
#: Columns that must be present in any input file.
REQUIRED_COLUMNS: Final[tuple[str, ...]] = RECORD_COLUMNS
#: pandas dtype of every column.
DTYPES: Final[dict[str, str]] = {c.name: c.dtype for c in COLUMNS}
INT_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.dtype == "int64")
FLOAT_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.dtype == "float64")
TIME_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.dtype == _TIME)
CATEGORY_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.dtype == _CAT)
ID_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.dtype == _ID)
#: What each column means.
DESCRIPTIONS: Final[dict[str, str]] = {c.name: c.description for c in COLUMNS}


def schema_table() -> pd.DataFrame:
    """Return the record's columns with dtype, rule and meaning, in order (for the book).

    Example:
        >>> t = schema_table()
        >>> t.loc[0, "column"], t.loc[6, "required"]
        ('timestamp', 'in files')
    """
    import pandas as pd

    return pd.DataFrame(
        {
            "column": [c.name for c in COLUMNS],
            "dtype": [c.dtype for c in COLUMNS],
            "required": [c.required for c in COLUMNS],
            "in plan's CSV": [c.in_plan for c in COLUMNS],
            "meaning": [c.description for c in COLUMNS],
        }
    )


def empty_calls() -> pd.DataFrame:
    """Return an empty frame with every column of the record, in order, with its dtype.

    Example:
        >>> empty_calls().dtypes["cost_usd"]
        dtype('float64')
    """
    import pandas as pd

    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype) for c in COLUMNS})
