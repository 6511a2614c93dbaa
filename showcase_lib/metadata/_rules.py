"""Ready-made custom rules: business rules a schema cannot express.

Each is an ordinary rule built with the :func:`~showcase_lib.metadata.rule` decorator; add
them with ``Validator(rules=[...])``. The vectorised variants keep
``validate_many`` fast on high-cardinality fields.

Example:
    >>> from showcase_lib.metadata import Validator
    >>> v = Validator(rules=[production_needs_trace])
    >>> md = {"customer_id": "cust_0001", "organization_id": "org_001", "product_id": "p",
    ...       "feature_id": "f", "environment": "production"}
    >>> [e.rule for e in v.validate(md).errors]
    ['production_needs_trace']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from showcase_lib.metadata._checks import Issue, Rule, present, rule


def _blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and value != value)
    )


def _equals(df: pd.DataFrame, column: str, value: str) -> pd.Series:
    if column not in df:
        return pd.Series(False, index=df.index)
    return (df[column].astype("string") == value).fillna(False).astype(bool)


def _enterprise_without_subscription(df: pd.DataFrame) -> pd.Series:
    return _equals(df, "subscription_tier", "enterprise") & ~present(df, "subscription_id")


def _production_without_trace(df: pd.DataFrame) -> pd.Series:
    return _equals(df, "environment", "production") & ~present(df, "trace_id")


@rule(
    "enterprise_needs_subscription",
    field="subscription_id",
    fields=("subscription_tier", "subscription_id"),
    vectorized=_enterprise_without_subscription,
)
def enterprise_needs_subscription(md: Mapping[str, Any]) -> str | None:
    """Enterprise calls carry the contract's subscription id (invoices are per contract)."""
    if md.get("subscription_tier") == "enterprise" and _blank(md.get("subscription_id")):
        return (
            "subscription_tier='enterprise' requires subscription_id (the contract to bill), "
            "e.g. subscription_id='sub_acme_2026'"
        )
    return None


@rule(
    "production_needs_trace",
    field="trace_id",
    fields=("environment", "trace_id"),
    vectorized=_production_without_trace,
)
def production_needs_trace(md: Mapping[str, Any]) -> str | None:
    """Production calls carry a trace id, so a cost spike can be traced to requests."""
    if md.get("environment") == "production" and _blank(md.get("trace_id")):
        return "environment='production' requires trace_id (propagate the W3C trace id)"
    return None


def registry_rule(customers: pd.DataFrame, *, name: str = "known_customer") -> Rule:
    """A rule that checks ids against reference data (your CRM or billing system).

    ``customers`` has ``customer_id`` and optionally ``organization_id`` and
    ``subscription_tier``; a record breaks the rule when its customer is unknown, or its
    organization or tier disagree with the reference. Catches well-formed but wrong values.

    Example:
        >>> ref = pd.DataFrame({"customer_id": ["cust_0001"], "organization_id": ["org_001"],
        ...                     "subscription_tier": ["pro"]})
        >>> r = registry_rule(ref)
        >>> r({"customer_id": "cust_0001", "organization_id": "org_001",
        ...    "subscription_tier": "enterprise"})[0].message
        "subscription_tier='enterprise' but cust_0001 is on 'pro' in the customer registry"
    """
    ref = customers.astype({c: object for c in customers.columns}).set_index("customer_id")
    known = ref.to_dict("index")
    checked = tuple(c for c in ("organization_id", "subscription_tier") if c in ref.columns)

    def check(md: Mapping[str, Any]) -> list[Issue]:
        cid = md.get("customer_id")
        if not isinstance(cid, str) or _blank(cid):
            return []
        row = known.get(cid)
        if row is None:
            return [
                Issue(
                    "customer_id",
                    name,
                    f"customer_id={cid!r} is not in the customer "
                    "registry (a typo, a test id, or a customer not yet onboarded)",
                    cid,
                )
            ]
        issues = []
        for col in checked:
            got = md.get(col)
            if isinstance(got, str) and got and got != row[col]:
                what = "belongs to" if col == "organization_id" else "is on"
                issues.append(
                    Issue(
                        col,
                        name,
                        f"{col}={got!r} but {cid} {what} {row[col]!r} in the customer registry",
                        got,
                        row[col],
                    )
                )
        return issues

    return Rule(
        name=name,
        check=check,
        field="customer_id",
        fields=("customer_id", *checked),
        description="ids and attributes agree with the customer registry",
    )
