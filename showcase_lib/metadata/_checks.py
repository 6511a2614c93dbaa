"""The pieces both validation paths share: issues, reports, rules and the value checks.

:func:`~showcase_lib.metadata.validate` (one dict) and :func:`~showcase_lib.metadata.validate_many`
(a frame) both build on this module, so they report the same (field, rule) set; it imports
neither of them (no cycle).

Example:
    >>> [i.rule for i in check_value(FIELDS["environment"], "Prod")]
    ['enum']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pandas as pd

from showcase_lib.metadata._fields import (
    EXTENSION_KEY,
    EXTENSION_VALUE,
    FIELDS,
    MAX_LENGTH,
    FieldSpec,
)
from showcase_lib.metadata._pii import PII_FIXES, describe, mask_value, pii_kinds
from showcase_lib.metadata._suggest import snake, suggest_enum, suggest_format, suggest_key
from showcase_lib.schema import ALL_COLUMNS

#: Record columns that are not metadata (skipped by both validation paths).
RECORD_ONLY_KEYS: frozenset[str] = frozenset(ALL_COLUMNS) - set(FIELDS)
#: The name used as ``Issue.field`` when the whole input is wrong.
ROOT = "<metadata>"
#: Built-in rule names, in the order they are checked.
BUILTIN_RULES: tuple[str, ...] = (
    "type",
    "required",
    "max_length",
    "enum",
    "format",
    "pii",
    "unknown_field",
    "key_format",
    "recommended",
)

#: How bad an issue is: errors make ``Report.ok`` false, warnings do not.
Severity = Literal["error", "warning"]

_EXT_KEY = re.compile(EXTENSION_KEY)
_EXT_VALUE = re.compile(EXTENSION_VALUE)


@dataclass(frozen=True)
class Issue:
    """One problem found: which field, which rule, a message that says what to do.

    ``value`` is the offending value (masked when it is personal data); ``suggestion`` the
    likely fix, if any.

    Example:
        >>> Issue("environment", "enum", "environment='prod' is not ...", "prod", "production").rule
        'enum'
    """

    field: str
    rule: str
    message: str
    value: Any = None
    suggestion: str | None = None
    severity: Severity = "error"


@dataclass
class Report:
    """The result of validating one metadata dict.

    Example:
        >>> Report().ok
        True
    """

    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not count)."""
        return not self.errors

    @property
    def fields(self) -> set[str]:
        """The fields that have at least one error."""
        return {e.field for e in self.errors}

    @property
    def rules(self) -> set[tuple[str, str]]:
        """The (field, rule) pairs that failed."""
        return {(e.field, e.rule) for e in self.errors}

    def to_frame(self) -> pd.DataFrame:
        """Errors then warnings as a table (severity, field, rule, value, suggestion, message)."""
        cols = ["severity", "field", "rule", "value", "suggestion", "message"]
        rows = [{c: getattr(i, c) for c in cols} for i in [*self.errors, *self.warnings]]
        return pd.DataFrame(rows, columns=cols)

    def raise_if_invalid(self) -> None:
        """Raise :class:`MetadataError` (a ``ValueError``) listing the errors, if any."""
        if self.errors:
            raise MetadataError(self)

    def __str__(self) -> str:
        if self.ok and not self.warnings:
            return "metadata OK"
        lines = [f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines += [
            f"  [{i.severity}] {i.field} ({i.rule}): {i.message}"
            for i in [*self.errors, *self.warnings]
        ]
        return "\n".join(lines)


class MetadataError(ValueError):
    """Invalid metadata; ``.report`` holds the details.

    Example:
        >>> try:
        ...     Report([Issue("customer_id", "required", "customer_id is required")]).raise_if_invalid()
        ... except MetadataError as exc:
        ...     print(str(exc).splitlines()[0])
        1 error(s), 0 warning(s)
    """

    def __init__(self, report: Report):
        self.report = report
        super().__init__(str(report))


# --------------------------------------------------------------------------- custom rules

RuleResult = str | Issue | Iterable[Issue] | None


@dataclass(frozen=True)
class Rule:
    """A custom rule over a whole metadata dict.

    ``check(md)`` returns ``None`` (pass), a message, an :class:`Issue` or a list of them.
    ``fields`` lists the keys the check reads: :func:`validate_many` then evaluates it once
    per distinct combination of those keys. ``vectorized(frame) -> bool Series`` (True where
    the rule is broken) is an optional fast path for high-cardinality fields.

    Example:
        >>> r = Rule("no_dev_enterprise", lambda md: None, field="environment")
        >>> r.name
        'no_dev_enterprise'
    """

    name: str
    check: Callable[[Mapping[str, Any]], RuleResult]
    field: str = ROOT
    fields: tuple[str, ...] = ()
    vectorized: Callable[[pd.DataFrame], pd.Series] | None = None
    severity: Severity = "error"
    description: str = ""

    def __call__(self, metadata: Mapping[str, Any]) -> list[Issue]:
        """Run the check and normalise its result to a list of issues."""
        out = self.check(metadata)
        if out is None or out is False or out == "":
            return []
        if isinstance(out, str):
            blamed = self.field
            return [Issue(blamed, self.name, out, metadata.get(blamed), severity=self.severity)]
        if isinstance(out, Issue):
            return [out]
        return list(out)


def rule(
    name: str,
    *,
    field: str = ROOT,
    fields: Sequence[str] = (),
    vectorized: Callable[[pd.DataFrame], pd.Series] | None = None,
    severity: Severity = "error",
) -> Callable[[Callable], Rule]:
    """Decorator that turns a function ``md -> message | None`` into a :class:`Rule`.

    Register it with ``Validator(rules=[...])`` or ``validator.add_rule(...)``.

    Example:
        >>> @rule("production_needs_trace", field="trace_id", fields=("environment", "trace_id"))
        ... def production_needs_trace(md):
        ...     if md.get("environment") == "production" and not md.get("trace_id"):
        ...         return "production calls must carry trace_id"
        >>> production_needs_trace({"environment": "production"})[0].rule
        'production_needs_trace'
    """

    def wrap(fn: Callable[[Mapping[str, Any]], RuleResult]) -> Rule:
        return Rule(
            name=name,
            check=fn,
            field=field,
            fields=tuple(fields),
            vectorized=vectorized,
            severity=severity,
            description=(fn.__doc__ or "").strip().split("\n")[0],
        )

    return wrap


def present(frame: pd.DataFrame, column: str) -> pd.Series:
    """Vectorised "this key has a non-blank value" for writing ``vectorized`` rules.

    Example:
        >>> present(pd.DataFrame({"a": ["x", "", None]}), "a").tolist()
        [True, False, False]
    """
    if column not in frame:
        return pd.Series(False, index=frame.index)
    col = frame[column]
    if (
        isinstance(col.dtype, pd.CategoricalDtype)
        or col.dtype == object
        or isinstance(col.dtype, pd.StringDtype)
    ):
        text = col.astype("string[pyarrow]")
        return (text.str.strip().str.len().fillna(0) > 0).astype(bool)
    return col.notna()


# --------------------------------------------------------------------------- value checks


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'" + f" ({len(value)} chars)"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and not value.strip()


def _did_you_mean(suggestion: str | None) -> str:
    return f"; did you mean {suggestion!r}?" if suggestion else ""


def _type_issue(spec_name: str, value: Any, example: str, fix: str | None) -> Issue:
    msg = (
        f"{spec_name}={_short(value)} is {type(value).__name__}, expected text such as "
        f"{example!r}{_did_you_mean(fix)}"
    )
    return Issue(spec_name, "type", msg, value, fix)


def _pii_issue(name: str, value: str) -> Issue | None:
    kinds = pii_kinds(value)
    if not kinds:
        return None
    masked = mask_value(value)
    msg = f"{name}={masked!r} looks like {describe(kinds)}: " + "; ".join(
        PII_FIXES[k] for k in kinds
    )
    return Issue(name, "pii", msg, masked)


def check_value(spec: FieldSpec, value: Any) -> list[Issue]:
    """All issues of one standard field's value (the value is present, i.e. not missing).

    Personal data is masked in the messages and in ``Issue.value``.

    Example:
        >>> [i.rule for i in check_value(FIELDS["environment"], "Prod")]
        ['enum']
    """
    name = spec.name
    if not isinstance(value, str):
        text = None if isinstance(value, (dict, list, tuple, set, bytes)) else str(value)
        fix = None
        if text is not None and not isinstance(value, bool):
            if spec.allowed:
                fix = suggest_enum(text, spec.allowed)
            elif spec.regex is not None:
                fix = text if spec.regex.fullmatch(text) else suggest_format(spec, text)
        return [_type_issue(name, value, spec.example, fix)]
    pii = _pii_issue(name, value)
    shown = value if pii is None else pii.value
    issues: list[Issue] = []
    if len(value) > spec.max_length:
        issues.append(
            Issue(
                name,
                "max_length",
                f"{name} is {len(value)} characters long (starts {shown[:20]!r}); "
                f"Revenium stores at most {spec.max_length}: keep tags short and "
                "move free text out of metadata",
                shown[:40] + "...",
            )
        )
    elif spec.allowed:
        if value not in spec.allowed:
            fix = suggest_enum(value, spec.allowed) if pii is None else None
            issues.append(
                Issue(
                    name,
                    "enum",
                    f"{name}={_short(shown)} is not one of "
                    f"{', '.join(spec.allowed)}{_did_you_mean(fix)}",
                    shown,
                    fix,
                )
            )
    elif spec.regex is not None and not spec.regex.fullmatch(value):
        fix = suggest_format(spec, value) if pii is None else None
        issues.append(
            Issue(
                name,
                "format",
                f"{name}={_short(shown)} does not match the format "
                f"({spec.format_hint}){_did_you_mean(fix)}",
                shown,
                fix,
            )
        )
    if pii is not None:
        issues.append(pii)
    return issues


def check_key(key: Any, *, extensions: bool = True) -> Issue | None:
    """The issue of a non-standard key, if any (``None`` for a good extension key).

    Example:
        >>> check_key("customerId").message
        "unknown field 'customerId'; did you mean 'customer_id'?"
        >>> check_key("experiment_id") is None
        True
    """
    fix = suggest_key(key)
    if fix is not None and fix != key:
        return Issue(
            str(key), "unknown_field", f"unknown field {key!r}{_did_you_mean(fix)}", key, fix
        )
    if not extensions:
        return Issue(
            str(key),
            "unknown_field",
            f"unknown field {key!r}: only the standard fields are allowed here",
            key,
        )
    if not isinstance(key, str) or not _EXT_KEY.fullmatch(key):
        fix = None
        if isinstance(key, str):
            cand = snake(key)[:64]
            fix = cand if cand and _EXT_KEY.fullmatch(cand) else None
        return Issue(
            str(key),
            "key_format",
            f"extension key {key!r} is not snake_case (a lowercase letter, then "
            f"letters, digits or '_', at most 64 characters){_did_you_mean(fix)}",
            key,
            fix,
        )
    return None


def check_extension_value(key: str, value: Any) -> list[Issue]:
    """All issues of one extension field's value (present, not missing).

    Example:
        >>> [i.rule for i in check_extension_value("variant", "  b")]
        ['format']
    """
    if isinstance(value, (bool, int)):
        return []
    if isinstance(value, float):
        if math.isfinite(value):
            return []
        return [Issue(key, "type", f"{key}={value!r} is not a finite number", value)]
    if not isinstance(value, str):
        return [
            Issue(
                key,
                "type",
                f"{key}={_short(value)} is {type(value).__name__}; extension "
                "values must be text, a number or a boolean (flatten nested data)",
                value,
            )
        ]
    pii = _pii_issue(key, value)
    shown = value if pii is None else pii.value
    issues: list[Issue] = []
    if len(value) > MAX_LENGTH:
        issues.append(
            Issue(
                key,
                "max_length",
                f"{key} is {len(value)} characters long (starts {shown[:20]!r}); "
                f"Revenium stores at most {MAX_LENGTH}",
                shown[:40] + "...",
            )
        )
    elif not _EXT_VALUE.fullmatch(value):
        fix = " ".join(value.split()) if pii is None else None
        fix = fix if fix and _EXT_VALUE.fullmatch(fix) else None
        issues.append(
            Issue(
                key,
                "format",
                f"{key}={_short(shown)} has control characters or "
                f"leading/trailing blanks{_did_you_mean(fix)}",
                shown,
                fix,
            )
        )
    if pii is not None:
        issues.append(pii)
    return issues


def required_issue(spec: FieldSpec, value: Any) -> Issue:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        what = "missing"
    else:
        what = f"empty ({value!r})"
    return Issue(
        spec.name,
        "required",
        f"{spec.name} is required but {what}; add it, e.g. {spec.name}={spec.example!r}",
        None,
        None,
    )


def recommended_issue(spec: FieldSpec) -> Issue:
    """The warning for a missing recommended field: why to set it, and the suggested value.

    Example:
        >>> w = recommended_issue(FIELDS["environment"])
        >>> w.severity, w.rule, w.suggestion
        ('warning', 'recommended', 'production')
    """
    why = f": {spec.advice}" if spec.advice else ""
    return Issue(
        spec.name,
        "recommended",
        f"{spec.name} is missing; it is recommended{why} (e.g. {spec.name}={spec.example!r})",
        None,
        spec.example,
        "warning",
    )


class ValidatorLike(Protocol):
    """What the vectorised path needs of a validator (``Validator`` satisfies it)."""

    rules: list[Rule]
    extensions: bool
    warn_recommended: bool

    def validate(self, metadata: Mapping[str, Any]) -> Report:
        """Validate one metadata dict."""
        ...
