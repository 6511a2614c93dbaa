"""Validate many records at once, vectorised over DataFrame columns.

Each column is reduced to its distinct values (``pd.factorize``, or the categories of a
categorical column), the rules run as whole-column string operations on those values
(pyarrow's RE2 engine for the formats and the personal-data pre-filter), and the result is
broadcast back to the rows through the codes. The rules and messages are the ones of
:func:`showcase_lib.metadata.validate` (from ``_checks``), so both paths report the same (row, field, rule) set.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["cust_0001", "Cust_0001"],
    ...                       "organization_id": ["org_001", "org_001"],
    ...                       "product_id": ["product_a", "product_a"],
    ...                       "feature_id": ["chat", "chat"],
    ...                       "environment": ["production", "prod"]})
    >>> from showcase_lib.metadata import validate_many
    >>> rep = validate_many(frame)
    >>> rep.ok.tolist()
    [True, False]
    >>> rep.summary.query("severity == 'error'")[["field", "rule", "count"]].values.tolist()
    [['customer_id', 'format', 1], ['environment', 'enum', 1]]
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib.metadata._checks import (
    RECORD_ONLY_KEYS,
    Issue,
    Report,
    Rule,
    ValidatorLike,
    check_extension_value,
    check_key,
    check_value,
    required_issue,
)
from showcase_lib.metadata._fields import (
    EXTENSION_VALUE,
    FIELDS,
    MAX_LENGTH,
    FieldSpec,
)
from showcase_lib.metadata._pii import mask_value, pii_column


@dataclass
class BatchReport:
    """Result of :func:`validate_many`.

    Attributes:
        n_records: rows validated.
        ok: boolean Series (same index as the input): True where a row has no error.
        errors: long table, one row per (row, field, rule); ``row`` is the 0-based position,
            ``value`` the offending value (masked when it is personal data).
        warnings: same shape, for warnings (missing recommended fields, warning rules).
        summary: one row per (severity, field, rule): count, share of records, up to three
            example values, the suggested fix and an example message.
        seconds: wall time of the validation.

    Example:
        >>> from showcase_lib.metadata import validate_many
        >>> validate_many([{"customer_id": "cust_1"}]).n_invalid
        1
    """

    n_records: int
    ok: pd.Series
    errors: pd.DataFrame
    warnings: pd.DataFrame
    summary: pd.DataFrame
    seconds: float
    _validator: ValidatorLike
    _frame: pd.DataFrame

    @property
    def n_invalid(self) -> int:
        """Rows with at least one error."""
        return int((~self.ok).sum())

    @property
    def ok_rate(self) -> float:
        """Share of rows without error."""
        return float(self.ok.mean()) if self.n_records else 1.0

    @property
    def records_per_second(self) -> float:
        """Throughput of this run."""
        return self.n_records / self.seconds if self.seconds > 0 else float("inf")

    def row_report(self, row: int) -> Report:
        """The single-record :class:`Report` of one row (by position), with full messages.

        Example:
            >>> from showcase_lib.metadata import validate_many
            >>> validate_many([{"customer_id": "x"}]).row_report(0).ok
            False
        """
        record = _row_dict(self._frame, row)
        return self._validator.validate(record)


def _row_dict(frame: pd.DataFrame, row: int) -> dict[str, Any]:
    rec = frame.iloc[row].to_dict()
    return {k: v for k, v in rec.items() if not _scalar_missing(v)}


def _scalar_missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _as_frame(records: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records
    if isinstance(records, (Mapping, str, bytes)):
        raise TypeError(
            f"validate_many expects a DataFrame or an iterable of dicts, got "
            f"{type(records).__name__} (use validate() for one dict)"
        )
    rows = list(records)
    bad = next((r for r in rows if not isinstance(r, Mapping)), None)
    if bad is not None:
        raise TypeError(f"validate_many expects dicts, got a {type(bad).__name__}: {bad!r:.60}")
    return pd.DataFrame.from_records(rows)


class _Column:
    """A column reduced to distinct values: codes (-1 = missing) and string uniques."""

    def __init__(self, col: pd.Series):
        n = len(col)
        self.nonstr_rows = np.zeros(0, dtype=np.int64)
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            cats = col.cat.categories
            if cats.dtype == object and pd.api.types.infer_dtype(cats, skipna=True) != "string":
                col = col.astype(object)
            else:
                self.codes = codes.astype(np.int64)
                self.uniques = pd.Series(cats.astype(str), dtype="string[pyarrow]")
                return
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            present = ~col.isna().to_numpy()
            self.nonstr_rows = np.flatnonzero(present)
            self.codes = np.full(n, -1, dtype=np.int64)
            self.uniques = pd.Series([], dtype="string[pyarrow]")
            return
        if col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) not in (
            "string",
            "empty",
        ):
            values = col.to_numpy(dtype=object)
            is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=n)
            missing = col.isna().to_numpy()
            self.nonstr_rows = np.flatnonzero(~is_str & ~missing)
            col = col.where(is_str, None)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        self.codes = np.asarray(codes, dtype=np.int64)
        self.uniques = pd.Series(np.asarray(uniques, dtype=object), dtype="string[pyarrow]")

    def rows(self, unique_mask: np.ndarray) -> np.ndarray:
        """Row positions whose value's unique mask is True."""
        if not unique_mask.any():
            return np.zeros(0, dtype=np.int64)
        full = np.append(unique_mask, False)  # code -1 -> the appended False
        return np.flatnonzero(full[self.codes])


def _mask(s: pd.Series) -> np.ndarray:
    return s.fillna(False).to_numpy(dtype=bool)


def _string_checks(
    u: pd.Series, *, max_length: int, allowed: tuple[str, ...] | None, pattern: str | None
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Per distinct value: blank mask, {rule: mask}, pii kinds (object array of tuples)."""
    length = u.str.len().fillna(0).to_numpy()
    blank = _mask(u.str.strip().str.len() == 0)
    long_ = (length > max_length) & ~blank
    rules: dict[str, np.ndarray] = {"max_length": long_}
    checkable = ~blank & ~long_
    if allowed is not None:
        rules["enum"] = checkable & ~_mask(u.isin(list(allowed)))
    elif pattern is not None:
        rules["format"] = checkable & ~_mask(u.str.fullmatch(pattern))
    kinds = pii_column(u).to_numpy(dtype=object)
    rules["pii"] = ~blank & np.fromiter((bool(k) for k in kinds), dtype=bool, count=len(u))
    return blank, rules, kinds


class _Collector:
    def __init__(self, n: int):
        self.n = n
        self.parts: dict[str, list[pd.DataFrame]] = {"error": [], "warning": []}

    def add(
        self, rows: np.ndarray, field: str, rule: str, values: Any, severity: str = "error"
    ) -> None:
        if len(rows) == 0:
            return
        vals = (
            values if isinstance(values, np.ndarray) else np.full(len(rows), values, dtype=object)
        )
        self.parts[severity].append(
            pd.DataFrame(
                {"row": rows.astype(np.int64), "field": field, "rule": rule, "value": vals}
            )
        )

    def frame(self, severity: str) -> pd.DataFrame:
        parts = self.parts[severity]
        if not parts:
            return pd.DataFrame(
                {
                    "row": pd.Series(dtype=np.int64),
                    "field": pd.Series(dtype=object),
                    "rule": pd.Series(dtype=object),
                    "value": pd.Series(dtype=object),
                }
            )
        return pd.concat(parts, ignore_index=True).sort_values(
            ["row", "field"], kind="stable", ignore_index=True
        )


def _display_values(col: _Column, kinds: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Uniques for display: personal data masked."""
    shown = raw.copy()
    for i in np.flatnonzero(np.fromiter((bool(k) for k in kinds), dtype=bool, count=len(kinds))):
        shown[i] = mask_value(raw[i])
    return shown


def _check_standard(
    spec: FieldSpec, frame: pd.DataFrame, out: _Collector, validator: ValidatorLike
) -> None:
    n = out.n
    if spec.name not in frame:
        rows = np.arange(n)
        if spec.required:
            out.add(rows, spec.name, "required", None)
        elif spec.recommended and validator.warn_recommended:
            out.add(rows, spec.name, "recommended", None, "warning")
        return
    raw_col = frame[spec.name]
    col = _Column(raw_col)
    if len(col.nonstr_rows):
        out.add(col.nonstr_rows, spec.name, "type", raw_col.to_numpy(dtype=object)[col.nonstr_rows])
    blank, rules, kinds = _string_checks(
        col.uniques, max_length=spec.max_length, allowed=spec.allowed, pattern=spec.pattern
    )
    missing_rows = np.flatnonzero(np.append(blank, True)[col.codes])
    if len(col.nonstr_rows):
        missing_rows = np.setdiff1d(missing_rows, col.nonstr_rows, assume_unique=True)
    if spec.required:
        out.add(missing_rows, spec.name, "required", None)
    elif spec.recommended and validator.warn_recommended:
        out.add(missing_rows, spec.name, "recommended", None, "warning")
    raw = col.uniques.to_numpy(dtype=object)
    shown = _display_values(col, kinds, raw)
    for rule_name in ("max_length", "enum", "format", "pii"):
        m = rules.get(rule_name)
        if m is None or not m.any():
            continue
        rows = col.rows(m)
        out.add(rows, spec.name, rule_name, shown[col.codes[rows]])


def _check_extension(
    key: Any, frame: pd.DataFrame, out: _Collector, validator: ValidatorLike
) -> None:
    raw_col = frame[key]
    col = _Column(raw_col)
    nonstr = col.nonstr_rows
    if len(nonstr):
        vals = raw_col.to_numpy(dtype=object)[nonstr]
        bad = (
            np.fromiter(
                (bool(check_extension_value(str(key), v)) for v in vals),
                dtype=bool,
                count=len(vals),
            )
            if raw_col.dtype == object
            else _nonfinite(raw_col, nonstr)
        )
    else:
        bad = np.zeros(0, dtype=bool)
    blank, rules, kinds = _string_checks(
        col.uniques, max_length=MAX_LENGTH, allowed=None, pattern=EXTENSION_VALUE
    )
    present_rows = np.sort(
        np.concatenate([np.flatnonzero(~np.append(blank, True)[col.codes]), nonstr])
    )
    key_issue = check_key(key, extensions=validator.extensions)
    if key_issue is not None:
        out.add(present_rows, key_issue.field, key_issue.rule, key)
        return
    if bad.any():
        out.add(nonstr[bad], str(key), "type", raw_col.to_numpy(dtype=object)[nonstr[bad]])
    raw = col.uniques.to_numpy(dtype=object)
    shown = _display_values(col, kinds, raw)
    for rule_name in ("max_length", "format", "pii"):
        m = rules[rule_name]
        if m.any():
            rows = col.rows(m)
            out.add(rows, str(key), rule_name, shown[col.codes[rows]])


def _nonfinite(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    if pd.api.types.is_float_dtype(col.dtype):
        return ~np.isfinite(col.to_numpy(dtype=float)[rows])
    return np.zeros(len(rows), dtype=bool)


def _group_codes(col: pd.Series) -> np.ndarray:
    """Integer codes of a column's distinct values (missing -> -1; unhashables by repr)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy()
    try:
        codes, _ = pd.factorize(col, use_na_sentinel=True)
    except TypeError:
        codes, _ = pd.factorize(
            col.map(lambda v: v if isinstance(v, Hashable) else repr(v)), use_na_sentinel=True
        )
    return codes


def _apply_rule(r: Rule, frame: pd.DataFrame, out: _Collector) -> None:
    n = len(frame)
    if r.vectorized is not None:
        mask = np.asarray(r.vectorized(frame), dtype=bool)
        rows = np.flatnonzero(mask)
        values = frame[r.field].to_numpy(dtype=object)[rows] if r.field in frame else None
        out.add(rows, r.field, r.name, values, r.severity)
        return
    cols = [c for c in r.fields if c in frame] if r.fields else None
    if cols is not None:
        if cols and n:
            codes = pd.DataFrame({i: _group_codes(frame[c]) for i, c in enumerate(cols)})
            group = codes.groupby(list(codes.columns), sort=False).ngroup().to_numpy()
        else:
            group = np.zeros(n, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0]) if n else []
        bounds = np.r_[starts, n] if n else []
        values = {c: frame[c].to_numpy(dtype=object) for c in cols}
        for k in range(len(starts)):
            rows = order[bounds[k] : bounds[k + 1]]
            row0 = int(rows[0])
            rec = {c: v[row0] for c, v in values.items() if not _scalar_missing(v[row0])}
            for i in r(rec):
                out.add(np.sort(rows), i.field, i.rule, i.value, i.severity)
        return
    for row in range(n):
        for i in r(_row_dict(frame, row)):
            out.add(np.array([row]), i.field, i.rule, i.value, i.severity)


@dataclass(frozen=True, slots=True)
class _Run:
    """What the summary of one run needs: the input, the validator, sizes."""

    frame: pd.DataFrame
    validator: ValidatorLike
    n: int
    examples: int


def _example_message(
    run: _Run, field: str, rule: str, value: Any, row: int
) -> tuple[str, str | None]:
    """The single-path message (and suggestion) for one failing example."""
    frame, validator = run.frame, run.validator
    issues: list[Issue]
    spec = FIELDS.get(field)
    if rule in ("required", "recommended") and spec is not None:
        if rule == "required":
            raw = frame[field].iloc[row] if field in frame else None
            issues = [required_issue(spec, None if _scalar_missing(raw) else raw)]
        else:
            issues = validator.validate({}).warnings
    else:
        issues = [
            *validator.validate(_row_dict(frame, row)).errors,
            *validator.validate(_row_dict(frame, row)).warnings,
        ]
    for i in issues:
        if i.field == field and i.rule == rule:
            return i.message, i.suggestion
    if spec is not None and rule not in ("required", "recommended"):
        for i in check_value(spec, value):
            if i.rule == rule:
                return i.message, i.suggestion
    return f"{field}: {rule}", None


def _summary(hits: pd.DataFrame, severity: str, run: _Run) -> pd.DataFrame:
    cols = ["severity", "field", "rule", "count", "share", "examples", "suggestion", "message"]
    if hits.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (field, rule), g in hits.groupby(["field", "rule"], sort=False):
        vals = g["value"].astype(str).where(g["value"].notna(), "<missing>")
        ex = list(dict.fromkeys(vals.head(200)))[: run.examples]
        msg, fix = _example_message(run, field, rule, g["value"].iloc[0], int(g["row"].iloc[0]))
        rows.append(
            {
                "severity": severity,
                "field": field,
                "rule": rule,
                "count": len(g),
                "share": len(g) / run.n if run.n else 0.0,
                "examples": ex,
                "suggestion": fix,
                "message": msg,
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["count", "field"], ascending=[False, True], kind="stable", ignore_index=True
    )


def check_frame(
    records: pd.DataFrame | Iterable[Mapping[str, Any]],
    validator: ValidatorLike,
    *,
    examples: int = 3,
) -> BatchReport:
    """Vectorised validation of many records with ``validator`` (the engine of
    :func:`~showcase_lib.metadata.validate_many`).

    Example:
        >>> from showcase_lib.metadata import Validator
        >>> check_frame([{"customer_id": "cust_1"}], Validator()).n_invalid
        1
    """
    t0 = time.perf_counter()
    frame = _as_frame(records)
    n = len(frame)
    out = _Collector(n)
    for spec in FIELDS.values():
        _check_standard(spec, frame, out, validator)
    standard = set(FIELDS)
    for key in frame.columns:
        if key in standard or key in RECORD_ONLY_KEYS:
            continue
        _check_extension(key, frame, out, validator)
    for r in validator.rules:
        _apply_rule(r, frame, out)
    errors, warnings = out.frame("error"), out.frame("warning")
    bad = np.zeros(n, dtype=bool)
    bad[errors["row"].to_numpy()] = True
    ok = pd.Series(~bad, index=frame.index, name="ok")
    run = _Run(frame=frame, validator=validator, n=n, examples=examples)
    parts = [_summary(errors, "error", run), _summary(warnings, "warning", run)]
    non_empty = [p for p in parts if not p.empty]
    summary = pd.concat(non_empty, ignore_index=True) if non_empty else parts[0]
    seconds = time.perf_counter() - t0
    return BatchReport(
        n_records=n,
        ok=ok,
        errors=errors,
        warnings=warnings,
        summary=summary,
        seconds=seconds,
        _validator=validator,
        _frame=frame,
    )
