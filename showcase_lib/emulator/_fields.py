"""Which completion fields the service knows, and the report of the ones it does not.

The record's wire table (``showcase_lib.wire.CompletionBody``) covers the fields the book's
record carries. Revenium's service knows more: every field its official SDK can send. This
module lists those (``SERVICE_ONLY``, read from ``revenium-python-sdk`` 0.12.0:
``revenium_middleware/_metering/types/ai_create_completion_params.py``, the ``extra_body`` keys
of ``agentic_outcomes.py:66-73`` and the middlewares' ``hasVisionContent``, e.g.
``anthropic/middleware.py:341-343``), with the rules the SDK says the backend enforces
(``_core/wire_guards.py:39-150``, ``_core/fields.py:24-34``), so a body from the SDK is parsed
and checked, not reported as unknown. ``tests/test_sdk_wire_drift.py`` fails when the SDK's
params and this table drift apart.

Everything else is sorted into the per-record report (:func:`field_report`):

- ``unknown``: no field of the service. The service answers 201 and ignores it (docs.revenium.io
  FAQ: "returns 201 Created even when your payload contains unrecognized field names");
  the report names the closest known field (``totalCots`` -> ``totalCost``,
  ``organisationName`` -> ``organizationName``) and what ignoring it costs (a cost override
  lost, a record attributed to no organization, tokens not billed).
- ``deprecated``: ``organizationId`` / ``productId``. "No longer accepted by the Revenium
  backend" (SDK 0.12.0 README, "Deprecation notice"; ``_core/fields.py:198-205``): the SDK
  rewrites them to ``organizationName`` / ``productName`` before sending, so only a
  hand-written client still sends them. The emulator does what accepting-but-not-reading
  means: 201, the body stored as sent, the field reported with its replacement, and no
  attribution from it (the cost queries put such a record under no organization or product,
  as the service's reports would). It neither rejects the record (the service accepts
  unknown fields) nor rewrites it (that is the SDK's job, not the service's).

The book's own wire adds a few extension keys (``requestId``, ``sessionId``, ``userAgent``,
``status``, ``stopReasonDerived``: ``EXTENSION``) that Revenium does not know either; they are
deliberate, so they are counted apart (``stats()["extension_keys"]``) instead of filling the
report of every record the book's tracker sends.

Example:
    >>> [(e["field"], e["kind"], e["suggestion"]) for e in field_report(
    ...     {"transactionId": "t1", "totalCots": 0.5, "organizationId": "acme"})]
    [('totalCots', 'unknown', 'totalCost'), ('organizationId', 'deprecated', 'organizationName')]
    >>> check_service_fields({"effort": "way-too-long-an-effort"})[0].message
    "effort='way-too-long-an-effort' must be 1 to 16 letters, digits, hyphens or underscores"
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

from showcase_lib.wire import CompletionBody, FieldError

FieldKind = Literal["unknown", "deprecated"]

_INT32_MAX: Final = 2_147_483_647  # promptLength's column (wire_guards._MAX_PROMPT_LENGTH)
_SLUG: Final = "letters, digits, hyphens or underscores"
_SOURCE: Final = "letters, digits, dots, colons, hyphens or underscores"
_SURFACE: Final = "letters, digits, dots, hyphens or underscores"


class _Rule(NamedTuple):
    """What the service accepts for one field: a type, and optionally a pattern or values."""

    type: Literal["str", "int", "bool", "enum"]
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    reason: str = ""  # the words of the 400 when the pattern fails
    values: tuple[str, ...] = ()


def _slug(pattern: str, max_length: int, characters: str) -> _Rule:
    return _Rule(
        "str",
        max_length,
        re.compile(pattern),
        f"must be 1 to {max_length} {characters}",
    )


_FREE = _Rule("str")
#: Completion fields the service knows that the record's wire table does not carry, with the
#: rule each must meet (SDK 0.12.0 ``ai_create_completion_params.py``; rules from
#: ``wire_guards.py`` ``_RULES_BY_OPERATION["completion"]`` and ``fields.AGENTIC_JOB_ID_RE``:
#: the backend refuses the whole record when one breaks, so the SDK drops the field first).
SERVICE_ONLY: Final[dict[str, _Rule]] = {
    # attribution and provenance, free text (the SDK forwards them verbatim)
    **dict.fromkeys(
        (
            "codingAssistantAccountUuid",
            "errorReason",
            "middlewareSource",
            "modelHost",
            "modelSource",
            "subscriberEmailSource",
            "systemFingerprint",
            "operationSubtype",
            "ticketId",
            "agentVersion",
            "skillInvocationTrigger",
            "skillKind",
            "skillMarketplaceName",
            "skillName",
            "skillPluginName",
            "skillSource",
            "agenticJobName",
            "agenticJobType",
            "agenticJobVersion",
            "squadId",
            "squadName",
            "squadRole",
            "traceType",
            # prompt capture (<= 50,000 characters each, truncated by the SDK: not a 400)
            "systemPrompt",
            "inputMessages",
            "outputResponse",
        ),
        _FREE,
    ),
    "promptsTruncated": _Rule("bool"),
    "hasVisionContent": _Rule("bool"),  # extra_body of the Anthropic/Google middlewares
    "effort": _slug(r"[A-Za-z0-9_-]+", 16, _SLUG),
    "speed": _slug(r"[A-Za-z0-9_-]+", 16, _SLUG),
    "querySource": _slug(r"[A-Za-z0-9._:-]+", 128, _SOURCE),
    "subagentType": _slug(r"[A-Za-z0-9._:-]+", 128, _SOURCE),
    "clientSurface": _slug(r"[A-Za-z0-9._-]+", 64, _SURFACE),
    "entrypoint": _slug(r"[A-Za-z0-9._-]+", 64, _SURFACE),
    "promptId": _slug(r"[A-Za-z0-9_-]+", 64, _SLUG),
    "promptLength": _Rule("int", _INT32_MAX),
    "agenticJobId": _Rule(
        "str",
        255,
        re.compile(r"(?!types$|conversion-funnel$)[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}"),
        "must start with an ASCII letter or digit, hold only letters, digits, '.', '_' and "
        "'-', be at most 255 characters, and not be 'types' or 'conversion-funnel'",
    ),
    "skipReason": _Rule(
        "enum",
        values=(
            "FREE_TIER",
            "RATE_LIMITED",
            "QUOTA_EXCEEDED",
            "CONTENT_POLICY_VIOLATION",
            "CAPACITY_UNAVAILABLE",
            "SERVICE_UNAVAILABLE",
        ),
    ),
    # the API reference: "spanId" is accepted in place of a transactionId
    "spanId": _Rule("str", 255, re.compile(r"\s*\S.*", re.DOTALL), "must be a non-empty string"),
}
#: Deprecated attribution fields -> the field the service reads instead.
DEPRECATED: Final[dict[str, str]] = {
    "organizationId": "organizationName",
    "productId": "productName",
}
#: Names the SDK takes as input but sends under another field (``credential_alias``: "SDK-side
#: input only: resources/ai.py sends it as subscriber.credential.name", params file line 312):
#: a hand-written client sending them is sending an unknown field; the report names the real one.
SDK_INPUT_ONLY: Final[dict[str, str]] = {"credentialAlias": "subscriber.credential.name"}
#: Keys of the book's wire that Revenium does not know (sent on purpose, counted apart).
EXTENSION: Final[frozenset[str]] = frozenset(
    {"requestId", "sessionId", "userAgent", "status", "stopReasonDerived"}
)
_WIRE_KEYS: Final[frozenset[str]] = frozenset(
    CompletionBody.__required_keys__ | CompletionBody.__optional_keys__
)
#: Every top-level key the emulator parses (the wire table, the service's own, the extensions).
KNOWN: Final[frozenset[str]] = _WIRE_KEYS | SERVICE_ONLY.keys()
#: The fields of the service (what a misspelt key is matched against).
SERVICE_FIELDS: Final[frozenset[str]] = (KNOWN - EXTENSION) - DEPRECATED.keys()
_SUBSCRIBER_KEYS: Final[frozenset[str]] = frozenset({"id", "email", "credential"})
_CREDENTIAL_KEYS: Final[frozenset[str]] = frozenset({"name", "value"})
#: difflib similarity a misspelling must reach to be named (0.8: ``totalCots`` -> ``totalCost``
#: scores 0.89, ``organisationName`` -> ``organizationName`` 0.94; two unrelated fields of the
#: table score below 0.7).
_SUGGEST_CUTOFF: Final = 0.8
_COSTS: Final = frozenset(
    {"totalCost", "inputTokenCost", "outputTokenCost", "cacheReadTokenCost"}
    | {"cacheCreationTokenCost", "costMultiplier"}
)
_TOKENS: Final = frozenset(k for k in SERVICE_FIELDS if k.endswith("TokenCount"))
_ATTRIBUTION: Final[dict[str, str]] = {
    "organizationName": "organization",
    "productName": "product",
    "subscriber": "subscriber",
    "agent": "agent",
    "taskType": "task type",
    "subscriptionId": "subscription",
    "traceId": "trace",
    "environment": "environment",
}


def _note(field: str, suggestion: str | None, *, deprecated: bool = False) -> str:
    """What the service does with the field, and what that costs the record."""
    if deprecated:
        return (
            f"no longer read by the service (the SDK sends {suggestion}): the record gets no "
            f"{_ATTRIBUTION.get(suggestion or '', 'value')} from it"
        )
    if suggestion is None:
        return "ignored by the service"
    if suggestion in _COSTS:
        return f"ignored: did you mean {suggestion}? the service prices the record from its tokens"
    if suggestion in _TOKENS:
        return f"ignored: did you mean {suggestion}? those tokens are not billed"
    if suggestion in _ATTRIBUTION:
        return f"ignored: did you mean {suggestion}? the record gets no {_ATTRIBUTION[suggestion]}"
    return f"ignored: did you mean {suggestion}?"


def _suggest(field: str, known: frozenset[str]) -> str | None:
    lower = {k.lower(): k for k in known}
    if field.lower() in lower:  # the same word in another case: TotalCost
        return lower[field.lower()]
    match = difflib.get_close_matches(field, known, n=1, cutoff=_SUGGEST_CUTOFF)
    return match[0] if match else None


def _entry(tid: Any, field: str, kind: FieldKind, suggestion: str | None) -> dict[str, Any]:
    return {
        "transaction_id": tid if isinstance(tid, str) else None,
        "field": field,
        "kind": kind,
        "suggestion": suggestion,
        "note": _note(field, suggestion, deprecated=kind == "deprecated"),
    }


def unknown_in(body: Mapping[str, Any]) -> list[str]:
    """Keys of a completion body (``subscriber.*`` included) the service does not know.

    Example:
        >>> unknown_in({"totalCots": 1, "subscriber": {"id": "c", "emial": "x"}})
        ['totalCots', 'subscriber.emial']
    """
    out = [k for k in body if k not in KNOWN]
    sub = body.get("subscriber")
    if isinstance(sub, dict):
        out += [f"subscriber.{k}" for k in sub if k not in _SUBSCRIBER_KEYS]
        cred = sub.get("credential")
        if isinstance(cred, dict):
            out += [f"subscriber.credential.{k}" for k in cred if k not in _CREDENTIAL_KEYS]
    return out


def field_report(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report of one stored completion: one entry per unknown or deprecated field.

    Each entry: ``transaction_id``, ``field``, ``kind`` (``unknown`` / ``deprecated``),
    ``suggestion`` (the closest service field, or the replacement of a deprecated one; None
    when nothing is close) and ``note`` (what the service does with it).

    Example:
        >>> field_report({"transactionId": "t", "organisationName": "acme"})[0]["note"]
        'ignored: did you mean organizationName? the record gets no organization'
    """
    tid = body.get("transactionId")
    out = []
    for name in unknown_in(body):
        if name.startswith("subscriber."):
            prefix, _, leaf = name.rpartition(".")
            keys = _CREDENTIAL_KEYS if prefix.endswith("credential") else _SUBSCRIBER_KEYS
            hint = _suggest(leaf, keys)
            out.append(_entry(tid, name, "unknown", f"{prefix}.{hint}" if hint else None))
        else:
            hint = SDK_INPUT_ONLY.get(name) or _suggest(name, SERVICE_FIELDS)
            out.append(_entry(tid, name, "unknown", hint))
    out += [_entry(tid, k, "deprecated", DEPRECATED[k]) for k in DEPRECATED if k in body]
    return out


def _check(name: str, rule: _Rule, value: Any) -> FieldError | None:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if rule.type == "bool":
        ok = type(value) is bool
        return None if ok else FieldError(name, "must be true or false", shown)
    if rule.type == "int":
        ok = type(value) is int and 0 <= value <= (rule.max_length or _INT32_MAX)
        limit = rule.max_length or _INT32_MAX
        return None if ok else FieldError(name, f"must be an integer from 0 to {limit}", shown)
    if rule.type == "enum":
        ok = value in rule.values
        return None if ok else FieldError(name, "must be one of " + ", ".join(rule.values), shown)
    if type(value) is not str:
        return FieldError(name, "must be a string", shown)
    too_long = rule.max_length is not None and len(value) > rule.max_length
    if too_long or (rule.pattern is not None and not rule.pattern.fullmatch(value)):
        reason = rule.reason or f"must be at most {rule.max_length} characters"
        return FieldError(name, reason, shown)
    return None


class Inspection(NamedTuple):
    """What one pass over a completion body found (see :func:`inspect_body`)."""

    errors: list[FieldError]  # service-only fields that break their rule
    unknown: list[str]  # keys the service does not know (subscriber.* included)
    deprecated: list[str]  # organizationId / productId
    extension: list[str]  # the book's extension keys


def inspect_body(body: Mapping[str, Any]) -> Inspection:
    """One pass over a completion body: the bad service-only fields (null means absent), the
    unknown, deprecated and extension keys. The server calls it on every completion.

    Example:
        >>> found = inspect_body({"promptsTruncated": "yes", "middlewareSource": "PY", "x": 1,
        ...                       "organizationId": "acme", "status": "success"})
        >>> [e.message for e in found.errors], found.unknown, found.deprecated, found.extension
        (["promptsTruncated='yes' must be true or false"], ['x'], ['organizationId'], ['status'])
    """
    errors: list[FieldError] = []
    unknown: list[str] = []
    extension: list[str] = []
    for name in body:
        if name in _WIRE_KEYS:
            if name in EXTENSION:
                extension.append(name)
            continue
        rule = SERVICE_ONLY.get(name)
        if rule is None:
            unknown.append(name)
        elif (value := body[name]) is not None and (error := _check(name, rule, value)):
            errors.append(error)
    sub = body.get("subscriber")
    if isinstance(sub, dict):
        unknown += unknown_in({"subscriber": sub})
    deprecated = [k for k in DEPRECATED if k in body]
    return Inspection(errors, unknown, deprecated, extension)


def check_service_fields(body: Mapping[str, Any]) -> list[FieldError]:
    """The bad service-only fields of a body (the ``errors`` of :func:`inspect_body`).

    Example:
        >>> check_service_fields({"promptsTruncated": "yes", "middlewareSource": "PYTHON"})
        [FieldError(field='promptsTruncated', reason='must be true or false', value="'yes'")]
    """
    return inspect_body(body).errors
