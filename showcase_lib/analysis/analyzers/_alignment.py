"""FinOps "align": showback and chargeback per organization, product and feature.

Direct cost is the cost of production calls tagged with the owner. Shared cost -- calls from
non-production environments (development, staging: platform work) and calls missing the
owner's tag -- is spread with a **fair-share rule**:

* ``proportional`` (default): in proportion to each owner's direct cost;
* ``calls``: in proportion to each owner's direct call count;
* ``even``: the same amount to every owner.

Showback is the direct cost (information); chargeback is direct + allocated shared cost (what is
billed). The sum of chargeback always equals total cost.

Example:
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"organization_id": ["a", "b", "a"],
    ...     "environment": ["production", "production", "staging"], "cost_usd": [3.0, 1.0, 2.0]})
    >>> t = chargeback(calls, "organization_id")
    >>> t.set_index("organization_id")["chargeback_usd"].tolist()
    [4.5, 1.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ._base import (
    AnalysisResult,
    Metric,
    ReveniumValue,
    Step,
    Story,
    build_result,
    comparison_frame,
    require_columns,
    require_rows,
)
from ._keys import blank, is_not, str_codes

Rule = Literal["proportional", "calls", "even"]
#: The fair-share rules ``Rule`` allows, for messages.
RULES: tuple[str, ...] = ("proportional", "calls", "even")
#: The ownership levels a chargeback is usually published at (organisation, product, feature).
DEFAULT_DIMENSIONS: tuple[str, ...] = ("organization_id", "product_id", "feature_id")


def shared_mask(calls: pd.DataFrame, dimension: str | None = None) -> np.ndarray:
    """True for shared calls: non-production environment, or ``dimension`` missing/empty.

    Example:
        >>> df = pd.DataFrame({"environment": ["production", "staging", "production"],
        ...                    "product_id": ["p", "p", None]})
        >>> shared_mask(df, "product_id").tolist()
        [False, True, True]
    """
    shared = np.zeros(len(calls), dtype=bool)
    if "environment" in calls:
        shared |= is_not(calls["environment"], "production")
    if dimension is not None:
        shared |= blank(calls[dimension])
    return shared


def chargeback(calls: pd.DataFrame, dimension: str, *, rule: Rule = "proportional") -> pd.DataFrame:
    """Showback (direct) and chargeback (direct + fair share of shared cost) per ``dimension``.

    Columns: the dimension, ``calls``, ``showback_usd`` (direct), ``shared_usd`` (allocated),
    ``chargeback_usd``, ``share`` (of total), ``even_split_usd`` (the whole bill split evenly,
    what a team without tags often does) and ``even_split_error_usd`` (even minus chargeback).

    Example:
        >>> df = pd.DataFrame({"feature_id": ["x", "y", "x"],
        ...     "environment": ["production", "production", "development"],
        ...     "cost_usd": [1.0, 1.0, 4.0]})
        >>> chargeback(df, "feature_id", rule="even")["shared_usd"].tolist()
        [2.0, 2.0]
    """
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {', '.join(RULES)}")
    require_columns(calls, [dimension, "cost_usd"], who="chargeback")
    shared = shared_mask(calls, dimension)
    codes, labels = str_codes(calls[dimension])
    cost = calls["cost_usd"]
    direct = ~shared
    g = cost[direct].groupby(codes[direct]).agg(showback_usd="sum", calls="size")
    g.index = pd.Index(labels[g.index.to_numpy()], dtype=object, name=dimension)
    pool = float(cost[shared].sum())
    if rule == "proportional":
        weight = g["showback_usd"]
    elif rule == "calls":
        weight = g["calls"].astype(float)
    else:
        weight = pd.Series(1.0, index=g.index)
    total_w = float(weight.sum())
    g["shared_usd"] = pool * weight / total_w if total_w else 0.0
    g["chargeback_usd"] = g["showback_usd"] + g["shared_usd"]
    total = float(calls["cost_usd"].sum())
    g["share"] = g["chargeback_usd"] / total if total else 0.0
    g["even_split_usd"] = total / len(g) if len(g) else 0.0
    g["even_split_error_usd"] = g["even_split_usd"] - g["chargeback_usd"]
    out = g.sort_values("chargeback_usd", ascending=False).reset_index()
    return out[
        [
            dimension,
            "calls",
            "showback_usd",
            "shared_usd",
            "chargeback_usd",
            "share",
            "even_split_usd",
            "even_split_error_usd",
        ]
    ]


@dataclass
class AlignmentResult(AnalysisResult):
    """Chargeback tables per dimension and the shared-cost pool."""

    chargebacks: dict[str, pd.DataFrame] = field(default_factory=dict)
    shared_usd: float = 0.0


def analyze_alignment(
    calls: pd.DataFrame,
    *,
    dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
    rule: Rule = "proportional",
) -> AlignmentResult:
    """Showback and chargeback per organization, product and feature with a fair-share rule.

    Example:
        >>> df = pd.DataFrame({"organization_id": ["a", "b"], "product_id": ["p", "q"],
        ...     "feature_id": ["f", "g"], "environment": ["production"] * 2,
        ...     "cost_usd": [3.0, 1.0]})
        >>> analyze_alignment(df).metric("Misallocated by an even split").value
        1.0
    """
    who = "analyze_alignment"
    require_columns(calls, ["cost_usd"], who=who)
    require_rows(calls, who=who)
    dims = [d for d in dimensions if d in calls.columns]
    if not dims:
        raise ValueError(f"{who}: none of the dimensions {tuple(dimensions)} is in calls")
    tables = {d: chargeback(calls, d, rule=rule) for d in dims}
    total = float(calls["cost_usd"].sum())
    env_shared = float(calls.loc[shared_mask(calls), "cost_usd"].sum())
    first = dims[0]
    t = tables[first]
    misallocated = float(t["even_split_error_usd"].clip(lower=0).sum())
    over = t.sort_values("even_split_error_usd").iloc[0]

    headline = [
        Metric("Total AI cost", total, "usd"),
        Metric("Shared (non-production) cost", env_shared, "usd", f"allocated by the {rule} rule"),
        Metric("Shared share of cost", env_shared / total if total else 0.0, "pct"),
        Metric(f"{first} values charged", float(len(t)), "count"),
        Metric(
            "Misallocated by an even split", misallocated, "usd", f"per {first}, over the period"
        ),
    ]
    findings = [
        f"{env_shared / total if total else 0:.1%} of cost is shared platform work "
        f"(non-production); it is charged back by the '{rule}' fair-share rule.",
        f"An even split of the bill across {len(t)} {first} values would misallocate "
        f"${misallocated:,.2f}; {over[first]} would be undercharged by "
        f"${-over['even_split_error_usd']:,.2f}.",
    ]
    for d in dims[1:]:
        top = tables[d].iloc[0]
        findings.append(
            f"Largest {d}: {top[d]} with ${top['chargeback_usd']:,.2f} "
            f"({top['share']:.1%}) after shared costs."
        )
    comparison = comparison_frame(
        [
            (f"Cost assigned per {first}", "even split", "direct + fair share", "text"),
            ("Cost misallocated", misallocated, 0.0, "usd"),
            ("Shared cost made visible", 0.0, env_shared, "usd"),
            ("Dimensions with chargeback", 0.0, float(len(dims)), "count"),
        ]
    )
    value = ReveniumValue(
        metadata=(*dims, "environment", "cost_usd"),
        enables="showback and chargeback per organization, product and feature, with shared "
        "platform cost separated by environment and allocated by a stated rule",
        without="split the invoice evenly or by headcount, argue about it every month, and "
        "hide development and staging spend inside someone's budget",
    )
    story = Story(
        problem=f"${total:,.0f} of AI cost arrives as one bill; teams are charged an even share "
        "whatever they use, so heavy users are subsidised and nobody owns the cost.",
        solution="Each call carries organization, product, feature and environment, so direct "
        "cost is known per owner and shared platform cost is allocated by a fair-share "
        f"rule ({rule}).",
        steps=(
            Step(
                "Tag ownership",
                "Send organization, product, feature and environment.",
                "tracker.track(..., organization_id='org_007', product_id='doc_studio',\n"
                "              feature_id='doc_summary', environment='production')",
            ),
            Step(
                "Pick the fair-share rule",
                "Agree the rule once; it is a parameter.",
                "result = analyze('alignment', calls, rule='proportional')",
            ),
            Step(
                "Publish showback, then chargeback",
                "Send each owner its table.",
                "result.chargebacks['organization_id']",
            ),
        ),
    )
    return build_result(
        AlignmentResult,
        name="alignment",
        title="Showback and chargeback",
        headline=headline,
        comparison=comparison,
        findings=findings,
        tables={f"chargeback_{d}": tab for d, tab in tables.items()},
        revenium_value=value,
        story=story,
        parameters={"rule": rule, "dimensions": tuple(dims)},
        chargebacks=tables,
        shared_usd=env_shared,
    )
