"""Suggest the likely fix for a bad value or key ("did you mean 'pro'?").

Three steps, cheapest first: case and blank folding, known aliases, then ``difflib`` close
matches. A format suggestion is offered only if the repaired value actually passes the format.

Example:
    >>> suggest_enum("Pro", ("starter", "pro", "enterprise"))
    'pro'
    >>> suggest_enum("enterprize", ("starter", "pro", "enterprise"))
    'enterprise'
    >>> suggest_key("customerId")
    'customer_id'
"""

from __future__ import annotations

import difflib
import re
from typing import Final

from showcase_lib.metadata._fields import FIELDS, FieldSpec

#: Common aliases of allowed values.
VALUE_ALIASES: Final[dict[str, str]] = {
    "prod": "production",
    "prd": "production",
    "live": "production",
    "stage": "staging",
    "stg": "staging",
    "preprod": "staging",
    "qa": "staging",
    "dev": "development",
    "local": "development",
    "test": "development",
    "professional": "pro",
    "premium": "pro",
    "ent": "enterprise",
    "business": "enterprise",
    "basic": "starter",
    "free": "starter",
    "trial": "starter",
    "code": "code_generation",
    "codegen": "code_generation",
    "coding": "code_generation",
    "summarize": "summarization",
    "summary": "summarization",
    "summarisation": "summarization",
    "classify": "classification",
    "extract": "extraction",
    "translate": "translation",
    "rag": "rag_qa",
    "qna": "rag_qa",
    "agent": "agent_step",
    "embeddings": "embedding",
    "embed": "embedding",
    "moderate": "moderation",
    "conversation": "chat",
}

#: Common aliases of field names (after camelCase -> snake_case folding).
KEY_ALIASES: Final[dict[str, str]] = {
    "customer": "customer_id",
    "cust_id": "customer_id",
    "customerid": "customer_id",
    "subscriber_id": "customer_id",
    "client_id": "customer_id",
    "account_id": "customer_id",
    "organization": "organization_id",
    "organisation_id": "organization_id",
    "organization_name": "organization_id",
    "org": "organization_id",
    "org_id": "organization_id",
    "tenant_id": "organization_id",
    "tenant": "organization_id",
    "user": "user_id",
    "userid": "user_id",
    "product": "product_id",
    "product_name": "product_id",
    "app": "product_id",
    "feature": "feature_id",
    "feature_name": "feature_id",
    "component": "component_id",
    "tier": "subscription_tier",
    "plan": "subscription_tier",
    "subscription_plan": "subscription_tier",
    "pricing_tier": "subscription_tier",
    "subscription": "subscription_id",
    "env": "environment",
    "stage": "environment",
    "task": "task_type",
    "operation": "task_type",
    "operation_type": "task_type",
    "session": "session_id",
    "conversation_id": "session_id",
    "thread_id": "session_id",
    "request": "request_id",
    "req_id": "request_id",
    "trace": "trace_id",
    "ua": "user_agent",
    "client": "user_agent",
}


def snake(text: str) -> str:
    """Fold a key or value to lowercase snake_case (camelCase, blanks, dots, dashes).

    Example:
        >>> snake("organizationName"), snake(" Product A ")
        ('organization_name', 'product_a')
    """
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text.strip())
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    return s


def suggest_enum(value: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed value the writer most likely meant, or ``None``.

    Example:
        >>> suggest_enum(" PRODUCTION", ("production", "staging", "development"))
        'production'
        >>> suggest_enum("prod", ("production", "staging", "development"))
        'production'
        >>> suggest_enum("banana", ("starter", "pro", "enterprise")) is None
        True
    """
    if not isinstance(value, str):
        return None
    folded = value.strip().casefold()
    for a in allowed:
        if a.casefold() == folded:
            return a
    alias = VALUE_ALIASES.get(snake(value))
    if alias in allowed:
        return alias
    hits = difflib.get_close_matches(snake(value), allowed, n=1, cutoff=0.6)
    return hits[0] if hits else None


_PREFIX_VARIANTS: Final[dict[str, tuple[str, ...]]] = {
    "cust_": ("customer", "cust", "cus", "c"),
    "org_": ("organization", "organisation", "org", "o"),
    "user_": ("user", "usr", "u"),
    "sub_": ("subscription", "sub"),
}


def suggest_format(spec: FieldSpec, value: str) -> str | None:
    """A repaired value that passes the field's format, or ``None``.

    Example:
        >>> suggest_format(FIELDS["customer_id"], "Customer-0001")
        'cust_0001'
        >>> suggest_format(FIELDS["organization_id"], "001")
        'org_001'
        >>> suggest_format(FIELDS["product_id"], "Product A")
        'product_a'
    """
    rx = spec.regex
    if rx is None or not isinstance(value, str):
        return None
    candidates = []
    stripped = " ".join(value.split())
    candidates.append(stripped)
    candidates.append(snake(value))
    if spec.prefix:
        s = snake(value)
        body = s
        for variant in _PREFIX_VARIANTS.get(spec.prefix, ()):
            if s.startswith(variant + "_") or (
                s.startswith(variant) and s[len(variant) :].isdigit()
            ):
                body = s[len(variant) :].lstrip("_")
                break
        candidates.append(spec.prefix + body)
        raw = re.sub(r"[^A-Za-z0-9_-]+", "_", value.strip()).strip("_")
        candidates.append(raw if raw.lower().startswith(spec.prefix) else spec.prefix + raw)
    for cand in candidates:
        if cand and cand != value and len(cand) <= spec.max_length and rx.fullmatch(cand):
            return cand
    return None


def suggest_key(key: object) -> str | None:
    """The standard field a non-standard key most likely means, or ``None``.

    Example:
        >>> suggest_key("organizationName"), suggest_key("custmer_id"), suggest_key("team")
        ('organization_id', 'customer_id', None)
    """
    if not isinstance(key, str):
        return None
    s = snake(key)
    if s in FIELDS:
        return s
    if s in KEY_ALIASES:
        return KEY_ALIASES[s]
    hits = difflib.get_close_matches(s, list(FIELDS), n=1, cutoff=0.85)
    return hits[0] if hits else None
