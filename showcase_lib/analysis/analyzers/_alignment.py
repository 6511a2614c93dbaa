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

import math
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
#: Label of a missing value under ``astype(str)`` of a categorical column (as ``_keys``).
_NAN = "nan"


def shared_mask(calls: pd.DataFrame, dimension: str | None = None) -> np.ndarray:
    """True for shared calls: non-production environment, or ``dimension`` missing/empty.

    Example:
        >>> df = pd.DataFrame({"environment": ["production", "staging", "production"],
        ...                    "product_id": ["p", "p", None]})
        >>> shared_mask(df, "product_id").tolist()
        [False, True, True]
    """
    shared = _non_production(calls)
    if dimension is not None:
        shared |= blank(calls[dimension])
    return shared


#: Above this many categories matching (or not matching) a test, a per-category lookup table
#: beats one comparison of the codes per category (each comparison is a pass over the calls).
_MAX_COMPARISONS = 8


def _where_category(values: pd.Series, table: np.ndarray) -> np.ndarray:
    """``table[category of each call]`` for a categorical column; ``table[-1]``: missing.

    A few comparisons of the integer codes (a few ms at 10M calls) instead of a gather.
    """
    raw = values.array.codes
    hits = np.flatnonzero(table[:-1])
    misses = np.flatnonzero(~table[:-1])
    if min(len(hits), len(misses)) > _MAX_COMPARISONS:
        return table[np.where(raw < 0, len(table) - 1, raw)]
    if len(hits) <= len(misses):  # True where the code is one of the hits (or missing)
        out = raw == hits[0] if len(hits) else np.zeros(len(raw), dtype=bool)
        for code in hits[1:]:
            out |= raw == code
        if table[-1]:
            out |= raw < 0
        return out
    out = raw != misses[0] if len(misses) else np.ones(len(raw), dtype=bool)
    for code in misses[1:]:
        out &= raw != code
    if not table[-1]:
        out &= raw >= 0
    return out


def _non_production(calls: pd.DataFrame) -> np.ndarray:
    """True for calls outside the production environment (missing counts as outside)."""
    if "environment" not in calls:
        return np.zeros(len(calls), dtype=bool)
    env = calls["environment"]
    if isinstance(env.dtype, pd.CategoricalDtype):
        table = np.asarray([str(c) != "production" for c in env.cat.categories] + [True])
        return _where_category(env, table)
    return is_not(env, "production")


@dataclass(frozen=True)
class _Ledger:
    """What every chargeback of one frame reads, computed once per analyzer call."""

    cost: np.ndarray
    #: Total cost of the calls, as ``calls["cost_usd"].sum()``.
    total: float
    #: True for calls outside production (the environment part of :func:`shared_mask`).
    env_shared: np.ndarray


def _ledger(calls: pd.DataFrame) -> _Ledger:
    """The cost column, its total and the non-production calls of ``calls``."""
    cost = calls["cost_usd"].to_numpy(dtype=float)
    total = cost.sum()  # what Series.sum adds up (pairwise), without its pass for missing values
    if np.isnan(total):
        total = np.nansum(cost)  # Series.sum skips NaN: the same sum with NaN as 0
    return _Ledger(cost=cost, total=float(total), env_shared=_non_production(calls))


@dataclass(frozen=True)
class _Slots:
    """A text column as a few integer slots: ``slot = base + offset`` per call; per slot its
    text (``astype(str)`` of the value), whether it is blank and whether it is missing."""

    base: np.ndarray
    offset: int
    text: np.ndarray
    blank: np.ndarray
    missing: np.ndarray
    #: The column's name (the dimension a chargeback is labelled with).
    name: object = None

    def key(self, times: int, plus: np.ndarray | None = None) -> np.ndarray:
        """``slot * times + plus`` per call, as the platform integer np.bincount reads
        (``plus``: small integers or booleans, below ``times``)."""
        key = np.multiply(self.base, times, dtype=np.intp)  # the cast and the product, one pass
        if plus is not None:
            key += plus
        if self.offset:
            key += self.offset * times
        return key

    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(label code of each slot, the labels): equal texts share a code, labels sorted."""
        uniq, inverse = np.unique(self.text.astype(str), return_inverse=True)
        return inverse.reshape(-1), uniq.astype(object)


def _slots(values: pd.Series) -> _Slots:
    """:class:`_Slots` of a column: its categorical codes (no pass over the calls), or for
    other dtypes one slot per (text, blank, missing) combination."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        text = np.asarray([_NAN, *(str(c) for c in values.cat.categories)], dtype=object)
        empty = np.asarray([True, *(t.strip() == "" for t in text[1:])])
        missing = np.zeros(len(text), dtype=bool)
        missing[0] = True
        return _Slots(values.array.codes, 1, text, empty, missing, values.name)
    codes, labels = str_codes(values)
    isna = values.isna().to_numpy()
    flag = np.where(isna, 2, blank(values).astype(np.intp))  # 0 text, 1 blank text, 2 missing
    return _Slots(
        codes * 3 + flag,
        0,
        np.repeat(labels, 3),
        np.tile([False, True, True], len(labels)),
        np.tile([False, False, True], len(labels)),
        values.name,
    )


#: Most cells one key may address (2**22: 32 MB per np.bincount). The alignment dimensions
#: (hundreds of organisations x a few products x tens of features) need ~50K; columns whose
#: product of slots is larger are counted one at a time.
_MAX_CELLS = 2**22


@dataclass(frozen=True)
class _Cube:
    """Cost and calls per cell (slot of each column x production or not), from one key per
    call and one np.bincount each: ``cost[..., 0]`` production, ``cost[..., 1]`` the rest."""

    slots: tuple[_Slots, ...]
    cost: np.ndarray
    calls: np.ndarray
    #: ``weights`` summed per cell when asked for (None otherwise).
    extra: np.ndarray | None = None

    def margin(self, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """(cost, calls) per (slot of column ``axis``, production or not)."""
        others = tuple(i for i in range(len(self.slots)) if i != axis)
        return self.cost.sum(axis=others), self.calls.sum(axis=others)


def _cube(ledger: _Ledger, slots: Sequence[_Slots], weights: np.ndarray | None = None) -> _Cube:
    """:class:`_Cube` of the columns' ``slots`` (and of ``weights``, per call, when given)."""
    slots = tuple(slots)
    sizes = [len(s.text) for s in slots]
    factors = [*sizes[1:], 2]  # key = ((slot0 * n1 + slot1) * n2 + ...) * 2 + not production
    key = np.multiply(slots[0].base, factors[0], dtype=np.intp)  # the cast and the product
    shift = slots[0].offset * factors[0]
    for s, factor in zip(slots[1:], factors[1:], strict=True):
        key += s.base
        key *= factor
        shift = (shift + s.offset) * factor
    key += ledger.env_shared
    if shift:
        key += shift
    shape, space = (*sizes, 2), 2 * math.prod(sizes)
    cost = np.bincount(key, weights=ledger.cost, minlength=space).reshape(shape)
    calls = np.bincount(key, minlength=space).reshape(shape)
    extra = None
    if weights is not None:
        extra = np.bincount(key, weights=weights, minlength=space).reshape(shape)
    return _Cube(slots, cost, calls, extra)


def _owner_costs(cube: _Cube, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per owner (label of column ``axis``) with direct calls: (labels, direct cost, direct
    calls), and the shared pool: the non-production calls and those with a blank owner."""
    slots = cube.slots[axis]
    cells, counts = cube.margin(axis)
    code, labels = slots.labels()
    owned = ~slots.blank
    cost = np.bincount(code[owned], weights=cells[owned, 0], minlength=len(labels))
    calls = np.bincount(code[owned], weights=counts[owned, 0], minlength=len(labels))
    pool = float(cells[:, 1].sum() + cells[slots.blank, 0].sum())
    present = calls > 0
    return labels[present], cost[present], calls[present].astype(np.int64), pool


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
    ledger = _ledger(calls)
    return _chargeback(_cube(ledger, [_slots(calls[dimension])]), 0, ledger.total, rule)


def _chargeback(cube: _Cube, axis: int, total: float, rule: Rule) -> pd.DataFrame:
    """:func:`chargeback` of column ``axis`` of ``cube`` (``total``: cost of every call)."""
    dimension = cube.slots[axis].name
    labels, direct, n_calls, pool = _owner_costs(cube, axis)
    g = pd.DataFrame(
        {"showback_usd": direct, "calls": n_calls},
        index=pd.Index(labels, dtype=object, name=dimension),
    )
    if rule == "proportional":
        weight = g["showback_usd"]
    elif rule == "calls":
        weight = g["calls"].astype(float)
    else:
        weight = pd.Series(1.0, index=g.index)
    total_w = float(weight.sum())
    g["shared_usd"] = pool * weight / total_w if total_w else 0.0
    g["chargeback_usd"] = g["showback_usd"] + g["shared_usd"]
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
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {', '.join(RULES)}")
    ledger = _ledger(calls)  # the cost and the non-production calls, once for every dimension
    slots = [_slots(calls[d]) for d in dict.fromkeys(dims)]
    if 2 * math.prod(len(s.text) for s in slots) <= _MAX_CELLS:  # one key for every dimension
        cube = _cube(ledger, slots)
        by_name = {s.name: _chargeback(cube, i, ledger.total, rule) for i, s in enumerate(slots)}
    else:
        by_name = {s.name: _chargeback(_cube(ledger, [s]), 0, ledger.total, rule) for s in slots}
    tables = {d: by_name[d] for d in dims}
    total = ledger.total
    env_shared = float(ledger.cost[ledger.env_shared].sum())
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
