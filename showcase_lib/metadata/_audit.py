"""Audit the metadata of many records: naming, cardinality, personal data, value shapes,
hierarchy, double counting and payload size. Each finding comes with its count, examples and
the fix.

:func:`audit` is the entry point: its :class:`Audit` holds every table (findings, cardinality,
split values, hierarchy conflicts, payload, double counting) and the cardinality growth of any
field (:meth:`Audit.growth`). The per-check functions below back it and stay private.

All checks are vectorised: a column is reduced to its distinct values, the checks run on those,
and the counts are broadcast back through the codes. Nothing is printed; everything returned
is a DataFrame (or a dataclass of DataFrames).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"customer_id": ["cust_0001", "Cust_0001", "cust_0002"],
    ...                    "feature_id": ["chat", "chat", "summarize this ticket for me"],
    ...                    "cost_usd": [1.0, 2.0, 3.0]})
    >>> a = audit(df)
    >>> sorted(a.findings["check"].unique())
    ['free_text', 'naming_case', 'split_value']
    >>> a.split_values[["field", "canonical", "spellings", "records"]].values.tolist()
    [['customer_id', 'cust_0001', 2, 2]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from showcase_lib.metadata._fields import FIELDS
from showcase_lib.metadata._pii import PII_FIXES, mask_value, pii_column
from showcase_lib.schema import ALL_COLUMNS

#: Fields whose values are minted elsewhere and are meant to be unique (not grouping keys).
TRACKING_FIELDS: Final[tuple[str, ...]] = ("request_id", "trace_id", "session_id", "call_id")
#: Fields that hold external ids: case-sensitive, random-looking by design.
EXTERNAL_ID_FIELDS: Final[tuple[str, ...]] = ("user_id", "subscription_id", *TRACKING_FIELDS)

#: Default ceiling of distinct values per field (None: unbounded by design, never group by it).
DEFAULT_THRESHOLDS: Final[dict[str, int | None]] = {
    "customer_id": 100_000,
    "organization_id": 10_000,
    "user_id": 1_000_000,
    "product_id": 50,
    "feature_id": 500,
    "component_id": 500,
    "subscription_tier": 3,
    "subscription_id": 100_000,
    "environment": 3,
    "task_type": 20,
    "user_agent": 200,
    "session_id": None,
    "request_id": None,
    "trace_id": None,
}
#: The growth check needs this many distinct values: a small vocabulary that is still being
#: filled in (a few features launched this month) is not yet evidence of an unbounded field.
GROWTH_MIN_UNIQUE: Final[int] = 50
#: ... and more than this share of them first seen in the second half of the period. An id or a
#: date in a name sits near one half (values arrive at a steady rate); a bounded field near zero;
#: a customer base that keeps signing up stays well below it in the simulated months.
GROWTH_MIN_NEW_SHARE: Final[float] = 0.35
#: Ceiling for extension fields not listed above.
DEFAULT_EXTENSION_THRESHOLD: Final[int] = 1_000

#: Keys that allocate cost to an internal owner: at most one per record.
ALLOCATION_KEYS: Final[tuple[str, ...]] = (
    "cost_center",
    "team",
    "department",
    "business_unit",
    "budget_owner",
    "chargeback_to",
    "project",
)

#: (child, parent) pairs that must form a tree: each child value has exactly one parent value.
HIERARCHY: Final[tuple[tuple[str, str], ...]] = (
    ("customer_id", "organization_id"),
    ("feature_id", "product_id"),
    ("component_id", "feature_id"),
    ("subscription_id", "customer_id"),
)

#: Per-record metadata budget in bytes of JSON (a warning threshold, not a Revenium limit).
PAYLOAD_BUDGET_BYTES: Final[int] = 1024

FIXES: Final[dict[str, str]] = {
    "naming_case": "lowercase the value at the source (one canonical spelling per entity)",
    "naming_separator": "use '_' (or '-') between words; no spaces, dots or slashes",
    "split_value": "normalise before tagging (lowercase, one separator) and backfill the history",
    "cardinality": "move unbounded values to a tracking field (trace/session/request id) and "
    "keep grouping fields to a bounded vocabulary",
    "cardinality_growth": "a grouping field that keeps gaining values is an id in disguise: "
    "bucket it or move it to a tracking field",
    "free_text": "replace sentences with a short code from a fixed list; keep text out of tags",
    "timestamp_value": "the call already has a timestamp; drop the date from the value",
    "random_id_value": "random ids belong in request_id/trace_id/session_id, not in names",
    "structured_value": "flatten it: one scalar per key; keep JSON documents out of tags",
    "multi_valued": "one value per key; split shared costs explicitly with weights",
    "multiple_allocation_keys": "one cost-allocation key per record (e.g. cost_center only)",
    "hierarchy_conflict": "a child must roll up to one parent: rename the child per parent "
    "(e.g. support_chat, docs_chat) or fix the parent at the source",
    "payload_size": "keep metadata small: short codes, no copies of prompts, prices or documents",
}

# Value shapes the audit flags (applied with pyarrow's RE2 engine to distinct values only).
# Three words or more: a sentence, not a name.
_FREE_TEXT = r"\S+\s+\S+\s+\S+"
_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}|(?:^|[^0-9])1[0-9]{9}(?:[0-9]{3})?(?:$|[^0-9])"
_RANDOM_ID = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{10,}"
)
_MULTI = r"[,;|]"
_STRUCTURED = r"^\s*[\[{]"


def tag_columns(df: pd.DataFrame) -> list[str]:
    """The metadata columns of a frame: standard fields plus non-record (extension) columns.

    Example:
        >>> tag_columns(pd.DataFrame(columns=["timestamp", "customer_id", "cost_usd", "team"]))
        ['customer_id', 'team']
    """
    return [c for c in df.columns if c in FIELDS or c not in ALL_COLUMNS]


def _uniques(col: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """codes (-1 missing) and distinct values as Arrow strings (cached for the last columns)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        res = (
            col.cat.codes.to_numpy().astype(np.int64),
            pd.Series(col.cat.categories.astype(str), dtype="string[pyarrow]"),
        )
    else:
        if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) not in (
            "string",
            "empty",
        ):
            col = col.map(lambda v: v if isinstance(v, str) or v is None or v != v else str(v))
        if not isinstance(col.dtype, pd.StringDtype):
            col = col.astype("string[pyarrow]")
        codes, uniq = pd.factorize(col, use_na_sentinel=True)
        res = (
            np.asarray(codes, dtype=np.int64),
            pd.Series(np.asarray(uniq, dtype=object), dtype="string[pyarrow]"),
        )
    return res


def _frame_uniques(
    df: pd.DataFrame, fields: Sequence[str]
) -> dict[str, tuple[np.ndarray, pd.Series]]:
    return {f: _uniques(df[f]) for f in fields if _is_text(df[f])}


def _counts(codes: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(codes[codes >= 0], minlength=k)


def _cost_per_unique(codes: np.ndarray, k: int, cost: np.ndarray | None) -> np.ndarray | None:
    if cost is None:
        return None
    ok = codes >= 0
    return np.bincount(codes[ok], weights=cost[ok], minlength=k)


def _is_text(col: pd.Series) -> bool:
    return isinstance(col.dtype, (pd.CategoricalDtype, pd.StringDtype)) or col.dtype == object


@dataclass(frozen=True, slots=True)
class _Values:
    """One field's distinct values with their record counts and cost (a finding's context)."""

    field: str
    uniq: pd.Series
    counts: np.ndarray
    n: int
    cost: np.ndarray | None
    examples: int


def _finding(
    check: str,
    vals: _Values,
    mask: np.ndarray,
    *,
    mask_examples: bool = False,
    fix: str | None = None,
) -> dict | None:
    fld, uniq, counts, n, cost_u, examples = (
        vals.field,
        vals.uniq,
        vals.counts,
        vals.n,
        vals.cost,
        vals.examples,
    )
    if not mask.any():
        return None
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(-counts[idx], kind="stable")]
    picked = uniq.to_numpy(dtype=object)[idx[:examples]]
    ex = [
        mask_value(v) if mask_examples else (v if len(v) <= 60 else v[:57] + "...") for v in picked
    ]
    count = int(counts[idx].sum())
    return {
        "check": check,
        "field": fld,
        "count": count,
        "share": count / n if n else 0.0,
        "distinct_values": len(idx),
        "examples": ex,
        "cost_usd": float(cost_u[idx].sum()) if cost_u is not None else np.nan,
        "fix": fix or FIXES[check],
    }


def _normal_key(u: pd.Series) -> pd.Series:
    return u.str.lower().str.replace(r"[^a-z0-9]+", "", regex=True)


@dataclass
class Audit:
    """The audit of one frame.

    Attributes:
        findings: check, field, count (records), share, distinct_values, examples, cost_usd
            (cost of the affected records, when the frame has ``cost_usd``), fix.
        cardinality: per field: unique values, threshold, status, new values in the second
            half of the period, top values.
        split_values: one row per entity spelled several ways (canonical spelling, spellings,
            records, cost in the minority spellings).
        payload: per-record metadata size in bytes (p50, p95, max, over budget) and the
            fields that weigh most.
        double_counting: records with several allocation keys or multi-valued tags, and the
            cost a per-value report would count twice.
        hierarchy: one row per child value that rolls up to more than one parent, for each
            (child, parent) pair of the metadata trees present in the frame (child_field,
            parent_field, child, parents, records, cost_usd); empty when every tree is a tree.

    Example:
        >>> a = audit(pd.DataFrame({"customer_id": ["cust_1", "CUST_1"], "cost_usd": [1.0, 2.0]}))
        >>> a.n_records, a.split_values["spellings"].tolist()
        (2, [2])
    """

    n_records: int
    findings: pd.DataFrame
    cardinality: pd.DataFrame
    split_values: pd.DataFrame
    payload: pd.DataFrame
    double_counting: pd.DataFrame
    hierarchy: pd.DataFrame
    fields: list[str] = field(default_factory=list)
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    def by_check(self) -> pd.DataFrame:
        """Records affected per check (a record can appear under several fields).

        Example:
            >>> audit(pd.DataFrame({"feature_id": ["Chat"]})).by_check()["count"].tolist()
            [1]
        """
        return (
            self.findings.groupby("check", sort=False)
            .agg(count=("count", "sum"), fields=("field", "nunique"))
            .reset_index()
            .sort_values("count", ascending=False, ignore_index=True)
        )

    def growth(self, field: str, *, freq: str = "D") -> pd.DataFrame:
        """Distinct values of ``field`` seen so far, and new ones, per period of the audited
        frame (``freq`` is a fixed pandas frequency such as ``"D"`` or ``"6h"``; times come from
        its ``timestamp`` column).

        A bounded vocabulary flattens out after a few periods; an id or a date baked into a
        name keeps growing.

        Example:
            >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"] * 2),
            ...                    "feature_id": ["a", "b", "a", "c"]})
            >>> audit(df).growth("feature_id")["unique_to_date"].tolist()
            [1, 3]
        """
        if self._frame is None or field not in self._frame:
            raise KeyError(f"field={field!r} is not a column of the audited frame")
        return cardinality_growth(self._frame, field, freq=freq)


def cardinality(
    df: pd.DataFrame,
    fields: Sequence[str] | None = None,
    *,
    thresholds: Mapping[str, int | None] | None = None,
    time_col: str = "timestamp",
    top: int = 3,
    _cache: Mapping[str, tuple[np.ndarray, pd.Series]] | None = None,
) -> pd.DataFrame:
    """Distinct values per field against thresholds, and how fast new values keep arriving.

    ``new_share_2nd_half``: share of the field's distinct values first seen in the second half
    of the period (by ``time_col``, else by row order). A bounded vocabulary is near 0; an id or
    a timestamp disguised as a tag stays near 0.5.

    Example:
        >>> df = pd.DataFrame({"feature_id": ["a", "b", "a", "c"]})
        >>> cardinality(df)[["field", "unique", "threshold", "status"]].values.tolist()
        [['feature_id', 3, 500, 'ok']]
    """
    fields = list(fields) if fields is not None else tag_columns(df)
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    n = len(df)
    if time_col in df and n:
        t = df[time_col]
        mid = t.min() + (t.max() - t.min()) / 2
        second = (t > mid).to_numpy()
    else:
        second = np.arange(n) >= n / 2
    rows = []
    for f in fields:
        if _cache is not None and f in _cache:
            codes, uniq = _cache[f]
        else:
            codes, uniq = _uniques(df[f].astype(object) if not _is_text(df[f]) else df[f])
        k = len(uniq)
        counts = _counts(codes, k)
        first_seen = np.full(k, n, dtype=np.int64)
        ok = codes >= 0
        np.minimum.at(first_seen, codes[ok], np.flatnonzero(ok))
        seen = counts > 0
        new2 = float(second[first_seen[seen]].mean()) if seen.any() and n else 0.0
        limit = th.get(f, DEFAULT_EXTENSION_THRESHOLD)
        unique = int(seen.sum())
        order = np.argsort(-counts, kind="stable")[:top]
        top_vals = [
            (str(uniq.iloc[i]), round(float(counts[i]) / max(int(ok.sum()), 1), 3))
            for i in order
            if counts[i] > 0
        ]
        if limit is None:
            status = "unbounded (tracking)"
        elif unique > limit:
            status = "over"
        elif limit >= 10 and unique > 0.8 * limit:
            status = "near"
        else:
            status = "ok"
        rows.append(
            {
                "field": f,
                "records": int(ok.sum()),
                "unique": unique,
                "unique_per_1k_records": 1000 * unique / max(int(ok.sum()), 1),
                "threshold": limit,
                "status": status,
                "new_share_2nd_half": new2,
                "top_values": top_vals,
            }
        )
    out = pd.DataFrame(rows)
    if not out.empty:
        out["threshold"] = out["threshold"].astype("Int64")
    return out


def cardinality_growth(
    df: pd.DataFrame, field: str, *, time_col: str = "timestamp", freq: str = "D"
) -> pd.DataFrame:
    """Distinct values of ``field`` seen so far, and new ones, per period.

    Example:
        >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"] * 2),
        ...                    "feature_id": ["a", "b", "a", "c"]})
        >>> cardinality_growth(df, "feature_id")["unique_to_date"].tolist()
        [1, 3]
    """
    codes, _ = _uniques(df[field])
    period = df[time_col].dt.floor(freq).to_numpy()
    ok = codes >= 0
    first = pd.DataFrame({"code": codes[ok], "period": period[ok]}).groupby("code")["period"].min()
    new = first.value_counts().sort_index()
    all_periods = pd.Index(np.unique(period), name="period")
    new = new.reindex(all_periods, fill_value=0)
    return pd.DataFrame(
        {
            "period": all_periods,
            "new_values": new.to_numpy(),
            "unique_to_date": new.cumsum().to_numpy(),
        }
    )


def payload_bytes(df: pd.DataFrame, fields: Sequence[str] | None = None) -> pd.Series:
    """Size in bytes of each record's metadata as compact JSON (``{"k":"v",...}``).

    Example:
        >>> payload_bytes(pd.DataFrame({"a": ["xy", None]})).tolist()
        [10, 2]
    """
    fields = list(fields) if fields is not None else tag_columns(df)
    total = np.full(len(df), 2, dtype=np.int64)  # {}
    present = np.zeros(len(df), dtype=np.int64)
    for f in fields:
        col = df[f]
        if _is_text(col):
            s = col.astype("string[pyarrow]")
            size = s.str.len().fillna(-1).to_numpy(dtype=np.int64)
            has = size >= 0
            add = np.where(has, size + 2, 0)  # quotes
        else:
            has = col.notna().to_numpy()
            add = np.where(has, col.astype(str).str.len().to_numpy(), 0)
        total += np.where(has, add + len(str(f)) + 3, 0)  # "key":
        present += has
    total += np.maximum(present - 1, 0)  # commas
    return pd.Series(total, index=df.index, name="payload_bytes")


def _field_bytes(df: pd.DataFrame, fields: Sequence[str]) -> pd.Series:
    out = {}
    for f in fields:
        col = df[f]
        lens = (
            col.astype("string[pyarrow]").str.len()
            if _is_text(col)
            else col.astype(str).str.len().where(col.notna())
        )
        out[f] = float((lens.fillna(-len(str(f)) - 5) + len(str(f)) + 5).mean())
    return pd.Series(out, name="mean_bytes").sort_values(ascending=False)


#: The columns of a hierarchy-conflict table.
_CONFLICT_COLUMNS: Final[tuple[str, ...]] = (
    "child_field",
    "parent_field",
    "child",
    "parents",
    "records",
    "cost_usd",
)


def hierarchy_conflicts(
    df: pd.DataFrame, child: str, parent: str, *, cost_col: str = "cost_usd"
) -> pd.DataFrame:
    """Child values that roll up to more than one parent (the hierarchy is not a tree).

    Example:
        >>> df = pd.DataFrame({"feature_id": ["chat", "chat", "search"],
        ...                    "product_id": ["support", "docs", "docs"]})
        >>> hierarchy_conflicts(df, "feature_id", "product_id")[["child", "parents"]].values.tolist()
        [['chat', ['docs', 'support']]]
    """
    cols = list(_CONFLICT_COLUMNS)
    if child not in df or parent not in df:
        return pd.DataFrame(columns=cols)
    sub = pd.DataFrame(
        {
            "c": df[child].astype(object),
            "p": df[parent].astype(object),
            "cost": df[cost_col].to_numpy(dtype=float) if cost_col in df else np.nan,
        }
    )
    sub = sub.dropna(subset=["c", "p"])
    n_par = sub.groupby("c")["p"].nunique()
    bad = n_par[n_par > 1].index
    if len(bad) == 0:
        return pd.DataFrame(columns=cols)
    g = (
        sub[sub["c"].isin(bad)]
        .groupby("c")
        .agg(
            parents=("p", lambda x: sorted(map(str, x.unique()))),
            records=("p", "size"),
            cost_usd=("cost", "sum"),
        )
    )
    out = g.reset_index().rename(columns={"c": "child"})
    out.insert(0, "parent_field", parent)
    out.insert(0, "child_field", child)
    return out[cols].sort_values("records", ascending=False, ignore_index=True)


def double_counting(
    df: pd.DataFrame,
    *,
    keys: Sequence[str] = ALLOCATION_KEYS,
    cost_col: str = "cost_usd",
    _cache: Mapping[str, tuple[np.ndarray, pd.Series]] | None = None,
) -> pd.DataFrame:
    """Cost a per-value report would count more than once.

    Two sources: several allocation keys set on one record (each key's report counts the
    call), and multi-valued tags (``"team_a,team_b"``) exploded into one row per value.

    Example:
        >>> df = pd.DataFrame({"team": ["a", "a,b"], "cost_center": [None, "cc-1"],
        ...                    "cost_usd": [1.0, 2.0]})
        >>> double_counting(df)[["source", "records", "overcount_usd"]].values.tolist()
        [['multiple_allocation_keys', 1, 2.0], ['multi_valued', 1, 2.0]]
    """
    n = len(df)
    cost = df[cost_col].to_numpy(dtype=float) if cost_col in df else np.ones(n)
    total = float(cost.sum()) if n else 0.0
    present_keys = [k for k in keys if k in df]
    n_keys = np.zeros(n, dtype=np.int64)
    for k in present_keys:
        col = df[k]
        n_keys += (
            (col.astype("string[pyarrow]").str.strip().str.len().fillna(0) > 0).to_numpy(dtype=bool)
            if _is_text(col)
            else col.notna().to_numpy()
        )
    extra_keys = np.maximum(n_keys - 1, 0)
    n_values = np.ones(n, dtype=np.int64)
    multi = np.zeros(n, dtype=bool)
    for f in tag_columns(df):
        col = df[f]
        if not _is_text(col) or f in EXTERNAL_ID_FIELDS:
            continue
        codes, uniq = _cache[f] if _cache is not None and f in _cache else _uniques(col)
        parts = uniq.str.count(_MULTI).fillna(0).to_numpy(dtype=np.int64)
        parts[_bool(uniq.str.contains(_STRUCTURED, regex=True))] = 0
        if parts.any():
            per_row = np.append(parts, 0)[codes]
            n_values += per_row
            multi |= per_row > 0
    rows = []
    for source, count_mask, extra in (
        ("multiple_allocation_keys", extra_keys > 0, extra_keys),
        ("multi_valued", multi, n_values - 1),
    ):
        over = float((cost * extra).sum())
        rows.append(
            {
                "source": source,
                "records": int(count_mask.sum()),
                "overcount_usd": over,
                "overcount_share": over / total if total else 0.0,
                "keys": present_keys if source == "multiple_allocation_keys" else [],
                "fix": FIXES[source],
            }
        )
    return pd.DataFrame(rows)


def audit(
    df: pd.DataFrame,
    *,
    fields: Sequence[str] | None = None,
    thresholds: Mapping[str, int | None] | None = None,
    payload_budget: int = PAYLOAD_BUDGET_BYTES,
    examples: int = 3,
) -> Audit:
    """Run every check on the metadata columns of ``df`` (records or simulated calls).

    ``fields`` defaults to the tag columns of ``df``; ``thresholds`` overrides the cardinality
    limits per field (the defaults show in the ``threshold`` column of
    ``Audit.cardinality``); ``payload_budget`` is the metadata size per
    record, in bytes, above which a record is flagged; ``examples`` the example values kept per
    finding. Times and costs come from the record's ``timestamp`` and ``cost_usd`` columns.

    Example:
        >>> a = audit(pd.DataFrame({"user_id": ["jane@example.com"], "cost_usd": [0.5]}))
        >>> a.findings.loc[a.findings.check == "pii_email", "examples"].item()
        ['j***@e***.com']
    """
    time_col, cost_col = "timestamp", "cost_usd"  # the record schema's names
    fields = list(fields) if fields is not None else tag_columns(df)
    n = len(df)
    cost = df[cost_col].to_numpy(dtype=float) if cost_col in df else None
    found: list[dict] = []
    splits: list[dict] = []
    conflicts: list[pd.DataFrame] = []
    cache = _frame_uniques(df, fields)
    for f in fields:
        if f not in cache:
            continue
        codes, uniq = cache[f]
        k = len(uniq)
        counts = _counts(codes, k)
        cost_u = _cost_per_unique(codes, k, cost)
        fv = _Values(field=f, uniq=uniq, counts=counts, n=n, cost=cost_u, examples=examples)
        seen = counts > 0
        text = uniq
        external = f in EXTERNAL_ID_FIELDS
        structured = _bool(text.str.contains(_STRUCTURED, regex=True))
        # naming: case and separators (grouping fields only)
        if not external and f != "user_agent":
            free_text = _bool(text.str.contains(_FREE_TEXT, regex=True))
            lower_ok = _mask_eq(text, text.str.lower()) | free_text
            sep_bad = _bool(text.str.contains(r"[^A-Za-z0-9_-]", regex=True))
            found.append(_finding("naming_case", fv, seen & ~lower_ok))
            found.append(
                _finding(
                    "naming_separator",
                    fv,
                    seen
                    & sep_bad
                    & ~structured
                    & ~_bool(text.str.contains(_FREE_TEXT, regex=True)),
                )
            )
            # one entity, several spellings
            key = _normal_key(text)
            kcodes, _ = pd.factorize(key.to_numpy(dtype=object))
            grp = pd.DataFrame({"k": kcodes, "v": np.arange(k), "n": counts})
            grp = grp[grp["n"] > 0]
            spell = grp.groupby("k")["v"].transform("size")
            multi = grp[spell > 1]
            if not multi.empty:
                for _, g in multi.groupby("k"):
                    g = g.sort_values("n", ascending=False)
                    vals = uniq.to_numpy(dtype=object)[g["v"].to_numpy()]
                    minority = g["v"].to_numpy()[1:]
                    splits.append(
                        {
                            "field": f,
                            "canonical": vals[0],
                            "spellings": len(g),
                            "variants": list(vals[1:4]),
                            "records": int(g["n"].sum()),
                            "records_in_variants": int(counts[minority].sum()),
                            "cost_usd": float(cost_u[g["v"]].sum())
                            if cost_u is not None
                            else np.nan,
                            "cost_in_variants_usd": float(cost_u[minority].sum())
                            if cost_u is not None
                            else np.nan,
                        }
                    )
                minority_mask = np.zeros(k, dtype=bool)
                for _, g in multi.groupby("k"):
                    g = g.sort_values("n", ascending=False)
                    minority_mask[g["v"].to_numpy()[1:]] = True
                found.append(_finding("split_value", fv, minority_mask))
        # personal data
        kinds = pii_column(text).to_numpy(dtype=object)
        flagged = np.flatnonzero(np.fromiter(map(bool, kinds), dtype=bool, count=k))
        for kind in PII_FIXES:
            m = np.zeros(k, dtype=bool)
            m[[i for i in flagged if kind in kinds[i]]] = True
            m &= seen
            found.append(_finding(f"pii_{kind}", fv, m, mask_examples=True, fix=PII_FIXES[kind]))
        # value shapes
        if not external and not (f in FIELDS and FIELDS[f].allowed):
            free = _bool(text.str.contains(_FREE_TEXT, regex=True))
            found.append(_finding("free_text", fv, seen & free))
            ts = _bool(text.str.contains(_TIMESTAMP, regex=True))
            found.append(_finding("timestamp_value", fv, seen & ts))
            rid = (
                _bool(text.str.contains(_RANDOM_ID, regex=True))
                & _bool(text.str.contains(r"[0-9]", regex=True))
                & ~ts
            )
            found.append(_finding("random_id_value", fv, seen & rid))
        found.append(_finding("structured_value", fv, seen & structured))
        if f not in EXTERNAL_ID_FIELDS:
            mv = (
                _bool(text.str.contains(_MULTI, regex=True))
                & ~_bool(text.str.contains(_FREE_TEXT, regex=True))
                & ~structured
            )
            found.append(_finding("multi_valued", fv, seen & mv))
    for child, parent in HIERARCHY:
        if child in fields and parent in fields:
            hc = hierarchy_conflicts(df, child, parent, cost_col=cost_col)
            if not hc.empty:
                conflicts.append(hc)
                found.append(
                    {
                        "check": "hierarchy_conflict",
                        "field": f"{child}->{parent}",
                        "count": int(hc["records"].sum()),
                        "share": float(hc["records"].sum()) / n,
                        "distinct_values": len(hc),
                        "examples": [
                            f"{r.child}: {', '.join(r.parents[:3])}"
                            for r in hc.head(examples).itertuples()
                        ],
                        "cost_usd": float(hc["cost_usd"].sum()) if cost is not None else np.nan,
                        "fix": FIXES["hierarchy_conflict"],
                    }
                )
    card = cardinality(df, fields, thresholds=thresholds, time_col=time_col, _cache=cache)
    for r in card.itertuples(index=False):
        if r.status == "over":
            found.append(
                {
                    "check": "cardinality",
                    "field": r.field,
                    "count": r.records,
                    "share": r.records / n if n else 0.0,
                    "distinct_values": r.unique,
                    "examples": [v for v, _ in r.top_values],
                    "cost_usd": np.nan,
                    "fix": FIXES["cardinality"]
                    + f" (threshold {r.threshold:,}, found {r.unique:,})",
                }
            )
        elif (
            r.threshold is not None
            and r.unique >= GROWTH_MIN_UNIQUE
            and r.new_share_2nd_half > GROWTH_MIN_NEW_SHARE
            and r.field not in EXTERNAL_ID_FIELDS
        ):
            found.append(
                {
                    "check": "cardinality_growth",
                    "field": r.field,
                    "count": r.records,
                    "share": r.records / n if n else 0.0,
                    "distinct_values": r.unique,
                    "examples": [v for v, _ in r.top_values],
                    "cost_usd": np.nan,
                    "fix": FIXES["cardinality_growth"]
                    + f" ({r.new_share_2nd_half:.0%} of values first seen in the 2nd "
                    "half)",
                }
            )
    dc = double_counting(df, cost_col=cost_col, _cache=cache)
    mk = dc.set_index("source").loc["multiple_allocation_keys"]
    if mk["records"]:
        found.append(
            {
                "check": "multiple_allocation_keys",
                "field": ",".join(mk["keys"]),
                "count": int(mk["records"]),
                "share": mk["records"] / n,
                "distinct_values": np.nan,
                "examples": [],
                "cost_usd": float(mk["overcount_usd"]),
                "fix": FIXES["multiple_allocation_keys"],
            }
        )
    sizes = payload_bytes(df, fields)
    over = sizes.to_numpy() > payload_budget
    fb = _field_bytes(df, fields) if fields else pd.Series(dtype=float)
    if over.any():
        found.append(
            {
                "check": "payload_size",
                "field": ",".join(fb.index[:3]),
                "count": int(over.sum()),
                "share": float(over.mean()),
                "distinct_values": np.nan,
                "examples": [f"{int(b)} bytes" for b in np.sort(sizes.to_numpy())[::-1][:3]],
                "cost_usd": float(cost[over].sum()) if cost is not None else np.nan,
                "fix": FIXES["payload_size"],
            }
        )
    payload = pd.DataFrame(
        [
            {
                "p50_bytes": float(np.median(sizes)) if n else 0.0,
                "p95_bytes": float(np.percentile(sizes, 95)) if n else 0.0,
                "max_bytes": int(sizes.max()) if n else 0,
                "budget_bytes": payload_budget,
                "over_budget": int(over.sum()),
                "heaviest_fields": list(fb.index[:3]),
                "heaviest_mean_bytes": [round(v, 1) for v in fb.to_numpy()[:3]],
            }
        ]
    )
    cols = ["check", "field", "count", "share", "distinct_values", "examples", "cost_usd", "fix"]
    findings = pd.DataFrame([f for f in found if f is not None], columns=cols)
    findings = findings.sort_values(["count", "check"], ascending=[False, True], ignore_index=True)
    split_df = pd.DataFrame(
        splits,
        columns=[
            "field",
            "canonical",
            "spellings",
            "variants",
            "records",
            "records_in_variants",
            "cost_usd",
            "cost_in_variants_usd",
        ],
    )
    split_df = split_df.sort_values("records_in_variants", ascending=False, ignore_index=True)
    hierarchy = (
        pd.concat(conflicts, ignore_index=True)
        if conflicts
        else pd.DataFrame(columns=list(_CONFLICT_COLUMNS))
    )
    return Audit(
        n_records=n,
        findings=findings,
        cardinality=card,
        split_values=split_df,
        payload=payload,
        double_counting=dc,
        hierarchy=hierarchy,
        fields=fields,
        _frame=df,
    )


def _bool(s: pd.Series) -> np.ndarray:
    return s.fillna(False).to_numpy(dtype=bool)


def _mask_eq(a: pd.Series, b: pd.Series) -> np.ndarray:
    return (a == b).fillna(True).to_numpy(dtype=bool)


def normalise(values: pd.Series, field: str | None = None) -> pd.Series:
    """The fix for split values: lowercase, one separator ('_'), trimmed; prefix kept.

    Example:
        >>> normalise(pd.Series(["Cust-0001", " cust 0001 ", "cust_0001"])).tolist()
        ['cust_0001', 'cust_0001', 'cust_0001']
    """
    s = values.astype("string[pyarrow]").str.strip().str.lower()
    s = s.str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    out = s.astype(values.dtype) if isinstance(values.dtype, pd.CategoricalDtype) else s
    return out
