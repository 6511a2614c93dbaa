"""Validate one metadata dict: required fields, types, allowed values, identifier formats,
length limits, personal data, unknown keys, and custom rules.

Every error names the field, the value and the rule, and suggests a fix when one is likely.
The value checks live in ``_checks`` and back the vectorised :func:`validate_many` too, so both
paths agree.

Keys that are columns of the record itself (``timestamp``, ``model``, ``cost_usd``...) are not
metadata: they are skipped, so a whole record dict can be validated too.

Example:
    >>> r = validate({"customer_id": "cust_0001", "organization_id": "org_001",
    ...               "product_id": "product_a", "feature_id": "chat",
    ...               "environment": "production", "subscription_tier": "Pro"})
    >>> r.ok
    False
    >>> r.errors[0].message
    "subscription_tier='Pro' is not one of starter, pro, enterprise; did you mean 'pro'?"

Custom rules (see :func:`~showcase_lib.metadata.rule`):
    >>> from showcase_lib.metadata import rule
    >>> @rule("enterprise_needs_subscription", field="subscription_id",
    ...       fields=("subscription_tier", "subscription_id"))
    ... def enterprise_needs_subscription(md):
    ...     if md.get("subscription_tier") == "enterprise" and not md.get("subscription_id"):
    ...         return "enterprise calls must carry subscription_id (the contract to bill)"
    >>> v = Validator(rules=[enterprise_needs_subscription])
    >>> v.validate({"customer_id": "cust_0001", "organization_id": "org_001",
    ...             "product_id": "product_a", "feature_id": "chat",
    ...             "environment": "production", "subscription_tier": "enterprise"}).ok
    False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from showcase_lib.metadata._batch import BatchReport, check_frame
from showcase_lib.metadata._checks import (
    BUILTIN_RULES,
    RECORD_ONLY_KEYS,
    ROOT,
    Issue,
    Report,
    Rule,
    check_extension_value,
    check_key,
    check_value,
    is_missing,
    recommended_issue,
    required_issue,
)
from showcase_lib.metadata._fields import FIELDS


class Validator:
    """Standard checks plus your custom rules; :meth:`validate` one dict,
    :meth:`validate_many` a DataFrame or a list of dicts.

    Args:
        rules: custom :class:`Rule` objects (see :func:`rule`).
        extensions: allow extra snake_case keys beyond the standard fields (default True).
        warn_recommended: warn when a recommended field (tier, task type) is missing.

    Example:
        >>> Validator().validate({"customer_id": "cust_1"}).fields == {
        ...     "organization_id", "product_id", "feature_id"}
        True
    """

    def __init__(
        self, rules: Iterable[Rule] = (), *, extensions: bool = True, warn_recommended: bool = True
    ):
        self.rules: list[Rule] = []
        self.extensions = extensions
        self.warn_recommended = warn_recommended
        for r in rules:
            self.add_rule(r)

    def add_rule(self, r: Rule) -> Rule:
        """Register a custom rule (usable as a decorator on a :func:`rule` object).

        Raises ``ValueError`` if the name is taken by a built-in or another custom rule.
        """
        if not isinstance(r, Rule):
            raise TypeError(
                f"add_rule expects a Rule (use the @rule decorator), got {type(r).__name__}"
            )
        if r.name in BUILTIN_RULES or any(x.name == r.name for x in self.rules):
            raise ValueError(f"rule name {r.name!r} is already registered")
        self.rules.append(r)
        return r

    def validate(self, metadata: Mapping[str, Any]) -> Report:
        """Validate one metadata dict; never raises on bad input (see :class:`Report`)."""
        report = Report()
        if hasattr(metadata, "model_dump") and not isinstance(metadata, Mapping):
            metadata = metadata.model_dump(exclude_none=True)
        if not isinstance(metadata, Mapping):
            report.errors.append(
                Issue(
                    ROOT,
                    "type",
                    f"metadata must be a dict of field -> value, got {type(metadata).__name__}",
                    None,
                )
            )
            return report
        for spec in FIELDS.values():
            value = metadata.get(spec.name)
            if is_missing(value):
                if spec.required:
                    report.errors.append(required_issue(spec, value))
                elif spec.recommended and self.warn_recommended:
                    report.warnings.append(recommended_issue(spec))
                continue
            report.errors.extend(check_value(spec, value))
        for key, value in metadata.items():
            if key in FIELDS or key in RECORD_ONLY_KEYS:
                continue
            if is_missing(value):
                continue
            key_issue = check_key(key, extensions=self.extensions)
            if key_issue is not None:
                report.errors.append(key_issue)
                continue
            report.errors.extend(check_extension_value(key, value))
        for r in self.rules:
            for issue in r(metadata):
                (report.errors if issue.severity == "error" else report.warnings).append(issue)
        return report

    def validate_many(
        self, records: pd.DataFrame | Iterable[Mapping[str, Any]], *, examples: int = 3
    ) -> BatchReport:
        """Vectorised validation of many records with this validator; see :func:`validate_many`.

        Example:
            >>> Validator().validate_many([{"customer_id": "cust_1"}]).n_invalid
            1
        """
        return check_frame(records, self, examples=examples)


#: The standard checks, no custom rule (shared: a Validator holds no per-call state).
DEFAULT_VALIDATOR = Validator()


def validate(metadata: Mapping[str, Any], *, rules: Iterable[Rule] = ()) -> Report:
    """Validate one metadata dict with the standard checks (plus ``rules`` if given).

    Returns a :class:`Report` with ``.ok`` and ``.errors`` (each with ``.field``, ``.rule``,
    ``.message``). Non-dict input gives a report with one ``type`` error, never an exception.

    A record with the four required fields of the showcase plan's reference is valid; a
    missing ``environment`` is a warning that says why to set it and suggests a value:

    Example:
        >>> r = validate({"customer_id": "cust_0001", "organization_id": "org_001",
        ...               "product_id": "product_a", "feature_id": "chat"})
        >>> r.ok, [(w.field, w.suggestion) for w in r.warnings][1]
        (True, ('environment', 'production'))
        >>> validate("cust_0001").errors[0].message
        'metadata must be a dict of field -> value, got str'
    """
    rules = list(rules)
    validator = Validator(rules) if rules else DEFAULT_VALIDATOR
    return validator.validate(metadata)


def validate_many(
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    validator: Validator | None = None,
    examples: int = 3,
) -> BatchReport:
    """Validate many metadata records (a DataFrame, e.g. simulated calls, or a list of dicts).

    Columns that are standard fields are checked with their rules; other columns that are not
    record columns (``cost_usd``, ``model``...) are extension fields. Rules and messages are
    those of :func:`validate`, so both paths report the same (row, field, rule) set.
    ``examples`` is the number of example values per line of ``BatchReport.summary``.

    Example:
        >>> rep = validate_many([{"customer_id": "cust_1", "organization_id": "org_1",
        ...                       "product_id": "p", "feature_id": "f",
        ...                       "environment": "production", "user_id": "a@b.io"}])
        >>> rep.errors[["field", "rule", "value"]].values.tolist()
        [['user_id', 'format', 'a***@b***.io'], ['user_id', 'pii', 'a***@b***.io']]
    """
    return check_frame(records, validator or DEFAULT_VALIDATOR, examples=examples)
