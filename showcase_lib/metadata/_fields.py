"""The standard metadata fields: one table that the validator, the pydantic model, the JSON
Schema, the audit and the book all read.

Each field says whether it is required, its allowed values or identifier format, its length
limit (Revenium stores text tags in 255-character columns; ``productName`` has 224 because
Revenium derives a longer name from it), and the Revenium wire field and OpenTelemetry GenAI
attribute it maps to, where one exists. For the fields that are record columns, the wire field
and the length limit are read from the record's table (``showcase_lib.schema.COLUMNS``), the
same facts the wire mappers and validator use; only metadata-only fields (user, component,
subscription ids) state their wire name here.

Decisions documented here:

* Required: exactly the four fields the showcase plan's metadata reference marks Required,
  ``customer_id``, ``organization_id``, ``product_id`` and ``feature_id``; a record with those
  four (and nothing else) is complete and validates.
* ``environment``, ``subscription_tier`` and ``task_type`` are optional but *recommended*
  (missing -> a warning with the suggested value, not an error). ``environment`` is set once
  per process from configuration; without it staging and development spend mixes silently
  into production margins, so every report should warn about it, but the reference does not
  require it and a minimal, correct record must pass. Internal chargeback and pre-sales
  traffic has no tier, and the tier is a customer attribute that billing data can join later.
  When present, each must be one of its allowed values.
* Our own grouping keys (customer, organization, product, feature, component) are lowercase;
  identifiers minted by other systems (user, subscription, session, request, trace ids) may
  keep their case.

``FIELDS`` maps each name to its :class:`FieldSpec`, in table order; every derived fact (the
names, the required or recommended ones, the enum fields) is read from it where it is used.

Example:
    >>> FIELDS["customer_id"].wire
    'subscriber.id'
    >>> [name for name, f in FIELDS.items() if f.required]
    ['customer_id', 'organization_id', 'product_id', 'feature_id']
    >>> [name for name, f in FIELDS.items() if f.recommended]
    ['subscription_tier', 'environment', 'task_type']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import pandas as pd

from showcase_lib.schema import COLUMN, ENVIRONMENTS, SUBSCRIPTION_TIERS, TAG_MAX_LENGTH

#: Task types (the simulator's ``task_type`` values are a subset; a test checks it).
_TASK_TYPES: Final[tuple[str, ...]] = (
    "chat",
    "summarization",
    "code_generation",
    "classification",
    "extraction",
    "translation",
    "rag_qa",
    "agent_step",
    "embedding",
    "moderation",
)

#: Revenium's longest text-tag column (also the limit here for our free-text extension keys).
MAX_LENGTH: Final[int] = TAG_MAX_LENGTH

# Building blocks of the identifier formats (anchored; RE2- and Python-compatible, so the same
# text drives the single-record path (``re``), the vectorised path (pyarrow / RE2) and the
# JSON Schema).
_LOWER_SLUG = r"[a-z0-9]+(?:[_-][a-z0-9]+)*"
_MIXED_SLUG = r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*"
#: An opaque identifier minted by another system (UUID, W3C trace id, ``req_...``).
OPAQUE_ID: Final[str] = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
#: Lowercase snake or kebab name starting with a letter (``product_a``, ``ai-assistant``).
SLUG: Final[str] = r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$"
#: Printable ASCII, no leading/trailing/double blanks (``web_app_v1.2``, ``Mozilla/5.0 (X11)``).
PRINTABLE: Final[str] = r"^[\x21-\x7e]+(?: [\x21-\x7e]+)*$"
#: Keys of extension fields (``experiment_id``, ``cost_center``).
EXTENSION_KEY: Final[str] = r"^[a-z][a-z0-9_]{0,63}$"
#: Values of extension fields: no control characters, no leading/trailing blanks.
EXTENSION_VALUE: Final[str] = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"


@dataclass(frozen=True)
class FieldSpec:
    """One standard metadata field.

    Example:
        >>> FieldSpec("x", "context", False, "demo", "a").max_length
        255
    """

    name: str
    group: str
    required: bool
    description: str
    example: str
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    format_hint: str = ""
    prefix: str | None = None
    max_length: int = MAX_LENGTH
    recommended: bool = False
    wire: str | None = None
    #: Why a recommended field is worth setting (the warning of a missing one says it).
    advice: str = ""
    otel: str | None = None
    note: str = ""

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The compiled format (``None`` for enum fields)."""
        return _compiled(self.pattern) if self.pattern else None


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern)
    return _CACHE[pattern]


def _prefixed(prefix: str, body: str) -> str:
    return rf"^{prefix}{body}$"


def _record(name: str) -> dict[str, object]:
    """The wire field and length limit of a record column, from the record's table."""
    col = COLUMN[name]
    return {"wire": col.wire, "max_length": col.max_length or MAX_LENGTH}


_TABLE: Final[tuple[FieldSpec, ...]] = (
    # identity
    FieldSpec(
        "customer_id",
        "identity",
        True,
        "The paying customer the call is billed to.",
        "cust_0001",
        pattern=_prefixed("cust_", _LOWER_SLUG),
        format_hint="'cust_' then lowercase letters/digits, '_' or '-' between words",
        prefix="cust_",
        note="Revenium's subscriber is the metered party; the book bills customers.",
        **_record("customer_id"),
    ),
    FieldSpec(
        "organization_id",
        "identity",
        True,
        "The tenant / account that owns the customer (roll-up level).",
        "org_001",
        pattern=_prefixed("org_", _LOWER_SLUG),
        format_hint="'org_' then lowercase letters/digits",
        prefix="org_",
        note="organizationId is deprecated on the wire.",
        **_record("organization_id"),
    ),
    FieldSpec(
        "user_id",
        "identity",
        False,
        "The end user inside the customer (pseudonymous).",
        "user_123",
        pattern=_prefixed("user_", _MIXED_SLUG),
        format_hint="'user_' then letters/digits (an IdP id or a salted hash, never an email)",
        prefix="user_",
        wire="userId",
        otel="user.id",
        note="Extension key (no Revenium field). Never an email: that is personal data.",
    ),
    # product hierarchy
    FieldSpec(
        "product_id",
        "product",
        True,
        "The product that made the call.",
        "product_a",
        pattern=SLUG,
        format_hint="lowercase snake/kebab name starting with a letter",
        note="224 characters: Revenium builds a longer name from it in a 255 column.",
        **_record("product_id"),
    ),
    FieldSpec(
        "feature_id",
        "product",
        True,
        "The feature inside the product.",
        "chat",
        pattern=SLUG,
        format_hint="lowercase snake/kebab name starting with a letter",
        note="Revenium's attribution dimension for the part of a product that made the call.",
        **_record("feature_id"),
    ),
    FieldSpec(
        "component_id",
        "product",
        False,
        "The component inside the feature (agent, retriever, ...).",
        "ai_assistant",
        pattern=SLUG,
        format_hint="lowercase snake/kebab name starting with a letter",
        wire="componentId",
        otel="gen_ai.agent.name",
        note="Extension key (agent carries feature_id); OTel names agents.",
    ),
    # subscription
    FieldSpec(
        "subscription_tier",
        "subscription",
        False,
        "The customer's plan.",
        "pro",
        allowed=SUBSCRIPTION_TIERS,
        recommended=True,
        advice="per-tier margins and tier reports need it",
        note="Optional (internal traffic has no tier) but recommended.",
        **_record("subscription_tier"),
    ),
    FieldSpec(
        "subscription_id",
        "subscription",
        False,
        "The billing system's subscription id.",
        "sub_xyz",
        pattern=_prefixed("sub_", _MIXED_SLUG),
        format_hint="'sub_' then letters/digits (a Stripe-style id keeps its case)",
        prefix="sub_",
        wire="subscriptionId",
    ),
    # context
    FieldSpec(
        "environment",
        "context",
        False,
        "Where the call ran.",
        "production",
        allowed=ENVIRONMENTS,
        recommended=True,
        advice="set it once per process from configuration, so staging and development "
        "spend does not mix into production margins",
        otel="deployment.environment.name",
        note="Optional in the plan but recommended: set it once per process from "
        "configuration, so non-production spend does not hide in production margins.",
        **_record("environment"),
    ),
    FieldSpec(
        "task_type",
        "context",
        False,
        "What kind of work the call did.",
        "chat",
        allowed=_TASK_TYPES,
        recommended=True,
        advice="model comparisons and cost per kind of work group by it",
        otel="gen_ai.operation.name",
        note="OTel's operation names (chat, embeddings, ...) are coarser.",
        **_record("task_type"),
    ),
    FieldSpec(
        "session_id",
        "context",
        False,
        "The conversation or workflow run.",
        "sess_abc",
        pattern=OPAQUE_ID,
        format_hint="an opaque id: letters, digits, '_', '.', ':', '-'",
        otel="gen_ai.conversation.id",
        note="Extension key (no Revenium field).",
        **_record("session_id"),
    ),
    # tracking
    FieldSpec(
        "request_id",
        "tracking",
        False,
        "Your request id (one user request).",
        "req_123",
        pattern=OPAQUE_ID,
        format_hint="an opaque id: letters, digits, '_', '.', ':', '-'",
        note="Extension key (no Revenium field); not transactionId, which is call_id.",
        **_record("request_id"),
    ),
    FieldSpec(
        "trace_id",
        "tracking",
        False,
        "The distributed-trace id.",
        "trace_xyz",
        pattern=OPAQUE_ID,
        format_hint="an opaque id: letters, digits, '_', '.', ':', '-'",
        otel="trace_id (W3C trace context)",
        note="OTel carries it in the span context, not as an attribute.",
        **_record("trace_id"),
    ),
    FieldSpec(
        "user_agent",
        "tracking",
        False,
        "The client application and version.",
        "web_app_v1.2",
        pattern=PRINTABLE,
        format_hint="printable ASCII without leading, trailing or double spaces",
        otel="user_agent.original",
        note="Extension key; keep it low-cardinality (app and version, not a browser string).",
        **_record("user_agent"),
    ),
)

#: The standard fields by name, in table order (read-only: the validator, the model, the JSON
#: Schema and the audit all read this one table).
FIELDS: Final[Mapping[str, FieldSpec]] = MappingProxyType({f.name: f for f in _TABLE})


def fields_table() -> pd.DataFrame:
    """The FIELDS table for the book: one row per field with its rules and mappings.

    Example:
        >>> t = fields_table()
        >>> t.loc[t.field == "session_id", "otel"].item()
        'gen_ai.conversation.id'
    """
    rows = []
    for f in FIELDS.values():
        rule = ("one of: " + ", ".join(f.allowed)) if f.allowed else f.format_hint
        rows.append(
            {
                "field": f.name,
                "group": f.group,
                "required": "required"
                if f.required
                else ("recommended" if f.recommended else "optional"),
                "example": f.example,
                "rule": rule,
                "max_length": f.max_length,
                "revenium_wire": f.wire or "-",
                "otel": f.otel or "-",
                "note": f.note,
            }
        )
    return pd.DataFrame(rows)
