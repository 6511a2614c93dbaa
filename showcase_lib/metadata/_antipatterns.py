"""Inject metadata anti-patterns into clean calls, so their cost can be measured on data.

Each injector returns a modified copy of the frame (the input is never changed) and is
deterministic for a seed. :func:`inject` applies one by name (the names and what they do are
in :data:`ANTIPATTERNS`), or all of them together; the audit must then find them.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"customer_id": ["cust_0001"] * 4, "cost_usd": [1.0] * 4})
    >>> bool(inject(df, "split_casing", share=0.5, seed=0)["customer_id"].nunique() > 1)
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

import numpy as np
import pandas as pd

_VARIANTS: tuple[Callable[[str], str], ...] = (
    str.upper,
    lambda v: v.replace("_", "-"),
    lambda v: v[:1].upper() + v[1:],
)


def _text(col: pd.Series) -> pd.Series:
    return col.astype(object).where(col.notna(), None)


def _rows(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    return rng.random(n) < share


def split_casing(
    df: pd.DataFrame, *, field: str = "customer_id", top: int = 3, share: float = 0.3, seed: int = 0
) -> pd.DataFrame:
    """Spell the ``top`` costliest values of ``field`` differently on ``share`` of their rows
    (``CUST_0001``, ``cust-0001``, ``Cust_0001``), as several services tagging by hand do.

    Example:
        >>> df = pd.DataFrame({"customer_id": ["cust_0001"] * 10, "cost_usd": [1.0] * 10})
        >>> sorted(split_casing(df, share=1.0)["customer_id"].unique())[:2]
        ['CUST_0001', 'Cust_0001']
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    col = _text(out[field])
    cost = out["cost_usd"] if "cost_usd" in out else pd.Series(1.0, index=out.index)
    victims = cost.groupby(col.to_numpy(), sort=False).sum().nlargest(top).index
    hit = col.isin(victims).to_numpy() & _rows(len(out), share, rng)
    pick = rng.integers(0, len(_VARIANTS), len(out))
    values = col.to_numpy(dtype=object).copy()
    for i in np.flatnonzero(hit):
        values[i] = _VARIANTS[pick[i]](values[i])
    out[field] = values
    return out


def emails_as_user_ids(df: pd.DataFrame, *, share: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """Add ``user_id``: a pseudonymous id, or on ``share`` of rows the user's email address.

    Example:
        >>> df = pd.DataFrame({"session_id": ["s1", "s2"]})
        >>> bool(emails_as_user_ids(df, share=1.0)["user_id"].str.contains("@").all())
        True
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    key = (
        out["session_id"].astype(str)
        if "session_id" in out
        else pd.Series(np.arange(len(out)).astype(str), index=out.index)
    )
    h = pd.util.hash_array(key.to_numpy(dtype=object), hash_key="showcase-users-0") % 5000
    num = pd.Series(h, index=out.index).astype(str).astype("string[pyarrow]").str.zfill(5)
    email = _rows(len(out), share, rng)
    out["user_id"] = ("user" + num + "@example.com").where(email, "user_" + num)
    return out


def timestamps_in_names(
    df: pd.DataFrame, *, field: str = "feature_id", share: float = 1.0, seed: int = 0
) -> pd.DataFrame:
    """Append the call's date to ``field`` (``chat_widget_2026-01-15``): one new value a day.

    Example:
        >>> df = pd.DataFrame({"feature_id": ["chat"], "timestamp": [pd.Timestamp("2026-01-15")]})
        >>> timestamps_in_names(df)["feature_id"].item()
        'chat_2026-01-15'
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    base = out[field].astype("string[pyarrow]")
    codes, days = pd.factorize(out["timestamp"].dt.floor("D"))
    date = pd.Series(
        pd.Index(days).strftime("%Y-%m-%d").to_numpy(dtype=object)[codes],
        index=out.index,
        dtype="string[pyarrow]",
    )
    hit = _rows(len(out), share, rng)
    out[field] = (base + "_" + date).where(hit, base)
    return out


def random_ids_in_names(
    df: pd.DataFrame,
    *,
    field: str = "component_id",
    source: str = "request_id",
    share: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Put a per-request random id into a grouping field (``agent_5b51b6c0b6``).

    Example:
        >>> df = pd.DataFrame({"request_id": ["req_5b51b6c0b6"]})
        >>> random_ids_in_names(df)["component_id"].item()
        'agent_5b51b6c0b6'
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    tail = out[source].astype("string[pyarrow]").str.replace(r"^.*_", "", regex=True)
    hit = _rows(len(out), share, rng)
    out[field] = ("agent_" + tail).where(hit, "agent")
    return out


def free_text_values(
    df: pd.DataFrame, *, field: str = "feature_id", share: float = 0.05, seed: int = 0
) -> pd.DataFrame:
    """Replace ``share`` of ``field`` with a sentence (a prompt or a UI label).

    Example:
        >>> df = pd.DataFrame({"feature_id": ["chat"] * 3})
        >>> bool(free_text_values(df, share=1.0)["feature_id"].str.contains(" ").all())
        True
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    phrases = np.array(
        [
            "summarize this ticket for the agent",
            "Ask AI about this document",
            "translate reply to customer language",
            "explain this SQL query please",
        ]
    )
    hit = _rows(len(out), share, rng)
    out[field] = np.where(
        hit, phrases[rng.integers(0, len(phrases), len(out))], _text(out[field]).astype(str)
    )
    return out


def several_allocation_keys(
    df: pd.DataFrame, *, share: float = 0.25, seed: int = 0
) -> pd.DataFrame:
    """Tag calls with ``cost_center`` and, on ``share`` of them, also ``team``.

    Example:
        >>> df = pd.DataFrame({"product_id": ["doc_studio"] * 2})
        >>> bool(several_allocation_keys(df, share=1.0)["team"].notna().all())
        True
    """
    rng = np.random.default_rng(seed)
    out = df.copy()
    prod = _text(out["product_id"]).astype(str)
    out["cost_center"] = "cc-" + prod.str.replace("_", "-")
    hit = _rows(len(out), share, rng)
    out["team"] = np.where(hit, "platform_ai", None)
    return out


def price_table_copy(df: pd.DataFrame, *, models: int = 12) -> pd.DataFrame:
    """Copy a price table into every record's metadata (a peer's real mistake).

    Example:
        >>> len(price_table_copy(pd.DataFrame({"a": [1]}))["price_table"].item()) > 300
        True
    """
    out = df.copy()
    table = {
        f"model-{i:02d}": {
            "input_usd_per_mtok": round(0.15 * (i + 1), 2),
            "output_usd_per_mtok": round(0.6 * (i + 1), 2),
        }
        for i in range(models)
    }
    out["price_table"] = json.dumps(table, separators=(",", ":"))
    return out


def hierarchy_clash(df: pd.DataFrame, *, name: str = "chat") -> pd.DataFrame:
    """Rename every product's chat-like feature to the same ``name`` (``chat_widget``,
    ``doc_chat``, ``insight_chat`` -> ``chat``): a feature no longer says which product.

    Example:
        >>> df = pd.DataFrame({"feature_id": ["doc_chat", "chat_widget"], "product_id": ["a", "b"]})
        >>> hierarchy_clash(df)["feature_id"].tolist()
        ['chat', 'chat']
    """
    out = df.copy()
    feat = _text(out["feature_id"]).astype(str)
    out["feature_id"] = np.where(feat.str.contains("chat"), name, feat)
    return out


#: The anti-patterns :func:`inject` knows: name -> what it looks like in the data.
ANTIPATTERNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "split_casing": "one customer spelled three ways",
        "emails_as_user_ids": "email addresses used as user ids",
        "timestamps_in_names": "the date baked into feature names",
        "random_ids_in_names": "request ids baked into component names",
        "free_text_values": "sentences used as feature names",
        "several_allocation_keys": "cost_center and team on one call",
        "price_table_copy": "a price table copied into every call",
        "hierarchy_clash": "one feature name shared by several products",
    }
)

#: What ``inject`` accepts: one anti-pattern of :data:`ANTIPATTERNS`, or ``"all"`` of them.
AntiPattern = Literal[
    "all",
    "split_casing",
    "emails_as_user_ids",
    "timestamps_in_names",
    "random_ids_in_names",
    "free_text_values",
    "several_allocation_keys",
    "price_table_copy",
    "hierarchy_clash",
]

_INJECTORS: Final[dict[str, Callable[..., pd.DataFrame]]] = {
    "split_casing": split_casing,
    "emails_as_user_ids": emails_as_user_ids,
    "timestamps_in_names": timestamps_in_names,
    "random_ids_in_names": random_ids_in_names,
    "free_text_values": free_text_values,
    "several_allocation_keys": several_allocation_keys,
    "price_table_copy": price_table_copy,
    "hierarchy_clash": hierarchy_clash,
}
assert tuple(_INJECTORS) == tuple(ANTIPATTERNS) == get_args(AntiPattern)[1:]

#: Options of ``inject(df, "all")`` per anti-pattern: a seed of its own (``seed + position``)
#: where it draws rows, and 10% of rows for the two that multiply cardinality (all rows would
#: drown every other finding in new values).
_ALL_OPTIONS: Final[dict[str, dict[str, float]]] = {
    "timestamps_in_names": {"share": 0.1},
    "random_ids_in_names": {"share": 0.1},
}
_UNSEEDED: Final[frozenset[str]] = frozenset({"price_table_copy", "hierarchy_clash"})


def inject(df: pd.DataFrame, kind: AntiPattern, /, **options: Any) -> pd.DataFrame:
    """Apply the anti-pattern ``kind`` of :data:`ANTIPATTERNS` with its ``options``, or
    ``"all"`` of them (then the only option is ``seed``); returns a modified copy.

    Options per anti-pattern: ``split_casing`` (field, top, share, seed), ``emails_as_user_ids``,
    ``timestamps_in_names``, ``random_ids_in_names``, ``free_text_values``,
    ``several_allocation_keys`` (share, seed), ``price_table_copy`` (models),
    ``hierarchy_clash`` (name of the shared feature). ``"all"`` applies them in that order,
    the ones that draw rows on a share of them.

    Example:
        >>> df = pd.DataFrame({"feature_id": ["doc_chat", "chat_widget"], "product_id": ["a", "b"]})
        >>> inject(df, "hierarchy_clash", name="chat")["feature_id"].tolist()
        ['chat', 'chat']
        >>> inject(df, "nope")
        Traceback (most recent call last):
        ...
        ValueError: anti-pattern kind='nope' is unknown; known: all, split_casing, emails_as_user_ids, timestamps_in_names, random_ids_in_names, free_text_values, several_allocation_keys, price_table_copy, hierarchy_clash
        >>> from showcase_lib.simulation import simulate
        >>> calls = simulate("steady_growth", days=2, customers=5, seed=0).calls
        >>> dirty = inject(calls, "all", seed=0)
        >>> {"user_id", "component_id", "cost_center", "team", "price_table"} <= set(dirty)
        True
    """
    if kind == "all":
        extra = sorted(set(options) - {"seed"})
        if extra:
            raise TypeError(f"inject(df, 'all') takes only seed, got {', '.join(extra)}")
        return _inject_all(df, **options)
    if kind not in _INJECTORS:
        raise ValueError(
            f"anti-pattern kind={kind!r} is unknown; known: {', '.join(get_args(AntiPattern))}"
        )
    return _INJECTORS[kind](df, **options)


def _inject_all(df: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    out = df
    for i, (name, fn) in enumerate(_INJECTORS.items()):
        kwargs: dict[str, Any] = {} if name in _UNSEEDED else {"seed": seed + i}
        out = fn(out, **kwargs, **_ALL_OPTIONS.get(name, {}))
    return out
