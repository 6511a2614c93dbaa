"""A seeded corpus of realistic metadata, valid and broken, to measure a validator.

Half the records (``mistake_share``) carry exactly one realistic mistake, labelled with its
kind and the field it hits; the rest are valid, including legal but unusual values (kebab-case
ids, Stripe-style mixed-case subscription ids, W3C trace ids, UUID sessions, browser user
agents, extension fields, numbers and booleans) that a careless validator flags by mistake.

Mistake kinds and their relative weights are listed by ``Corpus.kinds``. Two kinds are
*well-formed*: no schema can catch them (an existing but wrong customer id, a tier that
disagrees with the contract, a timestamp baked into a valid-looking name). They get a lower
weight on the assumption that they need a wrong source value rather than a slip of the
keyboard; that assumption drives the headline catch rate, so ``Corpus.score`` reports every
kind separately and the notebooks show the rate for other mixes.

Example:
    >>> c = make_corpus(200, seed=1)
    >>> float(c.labels["kind"].eq("valid").mean())
    0.5
    >>> s = c.score()
    >>> s.false_alarm_rate
    0.0
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib.metadata._fields import FIELDS
from showcase_lib.metadata._pii import luhn_ok
from showcase_lib.metadata._validate import DEFAULT_VALIDATOR, Validator, validate_many

#: kind -> (relative weight, what it looks like, can a schema catch it?): the default mix.
_MISTAKE_KINDS: dict[str, tuple[float, str, bool]] = {
    "enum_case": (1.0, "allowed value in the wrong case ('Pro', 'PRODUCTION')", True),
    "enum_typo": (1.0, "misspelt, aliased or padded value ('enterprize', 'prod', 'pro ')", True),
    "missing_required": (1.0, "required field absent, None or blank", True),
    "malformed_id": (1.0, "id in the wrong format ('Cust-0001', '0001', 'docStudio')", True),
    "wrong_type": (1.0, "number, list, dict or boolean where text is expected", True),
    "overlong": (1.0, "value longer than Revenium's 255-character column", True),
    "personal_data": (1.0, "email, phone, card number or IP address in a value", True),
    "wrong_key": (1.0, "field name misspelt or camelCase ('customerId', 'tier')", True),
    "free_text_or_timestamp": (1.0, "a sentence or a timestamp where a name belongs", True),
    "well_formed_but_wrong": (
        0.2,
        "valid-looking but wrong: unknown customer, wrong tier/org",
        False,
    ),
    "high_cardinality_name": (
        0.1,
        "a date or random id baked into a valid name ('chat_2026-01-15')",
        False,
    ),
}

_PRODUCTS: dict[str, tuple[tuple[str, str], ...]] = {
    "support_desk": (
        ("chat_widget", "chat"),
        ("ticket_triage", "classification"),
        ("kb_answer", "rag_qa"),
        ("reply_translate", "translation"),
    ),
    "doc_studio": (
        ("doc_summary", "summarization"),
        ("contract_extract", "extraction"),
        ("doc_chat", "chat"),
    ),
    "dev_copilot": (
        ("code_complete", "code_generation"),
        ("pr_agent", "agent_step"),
        ("repo_qa", "rag_qa"),
    ),
    "shop_assistant": (
        ("product_search", "embedding"),
        ("review_summary", "summarization"),
        ("review_moderation", "moderation"),
    ),
}
_FEATURES = [(p, f, t) for p, fs in _PRODUCTS.items() for f, t in fs]
_COMPONENTS = ("retriever", "reranker", "planner", "tool_router", "answer-writer", "guardrail")
_AGENTS = (
    "web_app_v1.2",
    "ios_app_v3.4.1",
    "python_sdk_v1.8",
    "slack_bot_v0.9",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/120.0.0.0",
    "revenium-python-sdk/0.12.0",
)
_EXTENSIONS: tuple[tuple[str, Callable[[np.random.Generator], Any]], ...] = (
    ("experiment_id", lambda r: f"exp_{r.choice(['checkout', 'prompt_v2', 'model_swap'])}"),
    ("variant", lambda r: str(r.choice(["control", "treatment"]))),
    ("cost_center", lambda r: f"cc-{int(r.integers(100, 999))}"),
    ("flag_key", lambda r: "new_summary_model"),
    ("ticket_id", lambda r: f"tkt_{int(r.integers(10_000, 99_999))}"),
    ("retry_count", lambda r: int(r.integers(0, 3))),
    ("cached", lambda r: bool(r.integers(0, 2))),
    ("region", lambda r: str(r.choice(["us-east-1", "eu-west-1"]))),
)
_ALNUM = np.array(list(string.ascii_letters + string.digits))
_HEX = np.array(list("0123456789abcdef"))


@dataclass
class Corpus:
    """Records plus labels (one row per record: row, kind, field, detail).

    ``customers`` is the reference table (customer_id, organization_id, subscription_tier),
    usable with :func:`~showcase_lib.metadata.registry_rule`; ``weights`` the relative weight
    of each mistake kind it was drawn with (see :attr:`kinds`).
    """

    records: list[dict[str, Any]]
    labels: pd.DataFrame
    customers: pd.DataFrame
    seed: int
    weights: Mapping[str, float]

    @property
    def kinds(self) -> pd.DataFrame:
        """The mistake kinds of this corpus: kind, weight, description, schema_catchable (can a
        schema catch it?) and share_of_mistakes (its expected share of the broken records).

        Example:
            >>> k = make_corpus(10, seed=0, weights={"wrong_key": 0}).kinds.set_index("kind")
            >>> float(k.loc["wrong_key", "share_of_mistakes"]), bool(k.loc["overlong", "schema_catchable"])
            (0.0, True)
        """
        out = pd.DataFrame(
            [
                (kind, float(self.weights[kind]), what, catchable)
                for kind, (_, what, catchable) in _MISTAKE_KINDS.items()
            ],
            columns=["kind", "weight", "description", "schema_catchable"],
        )
        out["share_of_mistakes"] = out["weight"] / out["weight"].sum()
        return out

    def score(self, validator: Validator | None = None) -> Score:
        """Measure ``validator`` (default: the standard checks) on this corpus via
        ``validate_many``: catch, located and false-alarm rates, overall and per kind.

        Example:
            >>> s = make_corpus(300, seed=2).score()
            >>> 0.9 <= s.catch_rate <= 1.0
            True
        """
        return _score(self, validator)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame (missing keys -> NaN), for ``validate_many``."""
        return pd.DataFrame.from_records(self.records)

    @property
    def mistakes(self) -> pd.DataFrame:
        """Labels of the broken records only."""
        return self.labels[self.labels["kind"] != "valid"]


def _token(rng: np.random.Generator, n: int, alphabet: np.ndarray = _ALNUM) -> str:
    return "".join(rng.choice(alphabet, n))


def _customers(rng: np.random.Generator, n: int = 300) -> pd.DataFrame:
    ids = [f"cust_{i:04d}" for i in range(1, n + 1)]
    kebab = rng.random(n) < 0.05
    ids = [
        f"cust_{_token(rng, 5, np.array(list('abcdefghij')))}-eu" if k else i
        for i, k in zip(ids, kebab, strict=True)
    ]
    orgs = [f"org_{int(j):03d}" for j in rng.integers(1, 61, n)]
    tiers = rng.choice(["starter", "pro", "enterprise"], n, p=[0.5, 0.35, 0.15])
    subs = [f"sub_{_token(rng, 14)}" if t != "starter" else None for t in tiers]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "organization_id": orgs,
            "subscription_tier": tiers,
            "subscription_id": subs,
        }
    )


def _valid(rng: np.random.Generator, cust: Mapping[str, Any]) -> dict[str, Any]:
    product, feature, task = _FEATURES[int(rng.integers(len(_FEATURES)))]
    md: dict[str, Any] = {
        "customer_id": cust["customer_id"],
        "organization_id": cust["organization_id"],
        "product_id": product,
        "feature_id": feature,
        "environment": str(
            rng.choice(["production", "staging", "development"], p=[0.85, 0.1, 0.05])
        ),
    }
    u = rng.random(12)
    if u[0] < 0.9:
        md["subscription_tier"] = cust["subscription_tier"]
    if u[1] < 0.6 and cust["subscription_id"]:
        md["subscription_id"] = cust["subscription_id"]
    if u[2] < 0.9:
        md["task_type"] = task
    if u[3] < 0.3:
        md["component_id"] = str(rng.choice(_COMPONENTS))
    if u[4] < 0.4:
        md["user_id"] = f"user_{_token(rng, 10)}"
    if u[5] < 0.7:
        md["session_id"] = (
            f"sess_{_token(rng, 12, _HEX)}"
            if u[10] < 0.5
            else "-".join(_token(rng, k, _HEX) for k in (8, 4, 4, 4, 12))
        )
    if u[6] < 0.8:
        md["request_id"] = f"req_{_token(rng, 16, _HEX)}"
    if u[7] < 0.6:
        md["trace_id"] = _token(rng, 32, _HEX)
    if u[8] < 0.7:
        md["user_agent"] = str(rng.choice(_AGENTS))
    if u[9] < 0.25:
        for key, make in [_EXTENSIONS[i] for i in rng.choice(len(_EXTENSIONS), 2, replace=False)]:
            md[key] = make(rng)
    return md


def _typo(rng: np.random.Generator, word: str, allowed: tuple[str, ...]) -> str:
    for _ in range(20):
        i = int(rng.integers(1, len(word)))
        op = int(rng.integers(3))
        if op == 0:
            out = word[:i] + word[i + 1 :]
        elif op == 1:
            out = word[:i] + word[i] + word[i:]
        else:
            out = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if out not in allowed:
            return out
    return word + "x"


def _card(rng: np.random.Generator) -> str:
    while True:
        digits = "4" + "".join(str(d) for d in rng.integers(0, 10, 15))
        if luhn_ok(digits):
            return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


_ENUMS = {name: FIELDS[name].allowed for name in ("subscription_tier", "environment", "task_type")}


def _mistake(
    kind: str,
    md: dict[str, Any],
    rng: np.random.Generator,
    cust: Mapping[str, Any],
    customers: pd.DataFrame,
) -> tuple[str, str]:
    """Break ``md`` in place; return (field, detail)."""
    pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    if kind == "enum_case":
        f = pick(list(_ENUMS))
        v = md.get(f) or _ENUMS[f][0]
        md[f] = pick(
            [v.upper(), v.title(), v.capitalize() if v.capitalize() != v.title() else v.upper()]
        )
        return f, f"{md[f]!r}"
    if kind == "enum_typo":
        f = pick(list(_ENUMS))
        v = md.get(f) or _ENUMS[f][0]
        aliases = {
            "environment": ["prod", "dev", "stage", "prd"],
            "subscription_tier": ["premium", "ent", "free", "Pro-Plan"],
            "task_type": ["summarize", "codegen", "rag", "embeddings"],
        }[f]
        md[f] = pick([_typo(rng, v, _ENUMS[f]), pick(aliases), v + " ", " " + v])
        return f, f"{md[f]!r}"
    if kind == "missing_required":
        f = pick([name for name, spec in FIELDS.items() if spec.required])
        how = int(rng.integers(4))
        if how == 0:
            md.pop(f, None)
        else:
            md[f] = [None, "", "   "][how - 1]
        return f, ["absent", "None", "empty", "blank"][how]
    if kind == "malformed_id":
        cid, oid = md["customer_id"], md["organization_id"]
        num = cid.split("_", 1)[1]
        options = [
            ("customer_id", cid.upper()),
            ("customer_id", cid.replace("_", "-", 1)),
            ("customer_id", num),
            ("customer_id", f"customer_{num}"),
            ("customer_id", cid.replace("_", " ")),
            ("customer_id", oid),
            ("organization_id", oid.upper().replace("_", "-")),
            ("organization_id", oid[4:]),
            (
                "product_id",
                "".join(w.title() if i else w for i, w in enumerate(md["product_id"].split("_"))),
            ),
            ("product_id", md["product_id"].replace("_", ".")),
            ("feature_id", md["feature_id"] + "_"),
            ("feature_id", "2fa_" + md["feature_id"]),
            ("subscription_id", "SUB " + _token(rng, 8)),
        ]
        f, v = pick(options)
        md[f] = v
        return f, f"{v!r}"
    if kind == "wrong_type":
        f, v = pick(
            [
                ("customer_id", int(rng.integers(1, 300))),
                ("subscription_tier", 2),
                ("environment", True),
                ("feature_id", [md["feature_id"]]),
                ("organization_id", {"id": md["organization_id"]}),
                ("product_id", 3.0),
                ("session_id", int(rng.integers(10**6, 10**9))),
                ("cost_center", {"team": "search", "share": 0.5}),
            ]
        )
        md[f] = v
        return f, type(v).__name__
    if kind == "overlong":
        n = int(rng.integers(256, 2000))
        f = pick(["feature_id", "component_id", "user_agent", "session_id", "notes"])
        base = {
            "feature_id": "chat_",
            "component_id": "retriever_",
            "user_agent": "Mozilla/5.0 ",
            "session_id": "sess_",
            "notes": "Traceback (most recent call last): ",
        }[f]
        filler = "x" if f in ("feature_id", "component_id", "session_id") else "lorem ipsum "
        md[f] = (base + filler * n)[: max(n, 256)]
        return f, f"{len(md[f])} chars"
    if kind == "personal_data":
        email = f"{pick(['jane.doe', 'j.smith', 'ops'])}@{pick(['example.com', 'acme.io'])}"
        f, v = pick(
            [
                ("user_id", email),
                ("customer_id", email),
                ("contact", email),
                ("session_id", "+1-415-555-0134"),
                ("caller", "+44 20 7946 0958"),
                ("payment_ref", _card(rng)),
                ("session_id", _card(rng).replace(" ", "")),
                ("trace_id", f"10.{int(rng.integers(0, 255))}.0.{int(rng.integers(1, 255))}"),
                ("client_ip", "192.168.1.20"),
            ]
        )
        md[f] = v
        return f, f"{f}"
    if kind == "wrong_key":
        src, dst = pick(
            [
                ("customer_id", "customerId"),
                ("customer_id", "CustomerID"),
                ("customer_id", "custmer_id"),
                ("organization_id", "organizationName"),
                ("organization_id", "tenant_id"),
                ("subscription_tier", "tier"),
                ("subscription_tier", "plan"),
                ("environment", "env"),
                ("environment", "Environment"),
                ("feature_id", "feature"),
                ("task_type", "taskType"),
                ("trace_id", "traceId"),
            ]
        )
        md[dst] = md.pop(src, None) or _ENUMS.get(src, ("x",))[0]
        return dst, f"{src} sent as {dst}"
    if kind == "free_text_or_timestamp":
        f, v = pick(
            [
                ("feature_id", "summarize the customer's latest ticket"),
                ("product_id", "2026-01-15T10:22:03Z"),
                ("feature_id", "Chat with docs (beta)"),
                ("component_id", "1736936523"),
                ("customer_id", "Acme Corp (EU)"),
                ("feature_id", "2026-01-15 10:22"),
            ]
        )
        md[f] = v
        return f, f"{v!r}"
    if kind == "well_formed_but_wrong":
        other = customers.iloc[int(rng.integers(len(customers)))]
        options = [
            ("customer_id", f"cust_{int(rng.integers(5000, 9999))}"),
            (
                "organization_id",
                other["organization_id"]
                if other["organization_id"] != md["organization_id"]
                else "org_999",
            ),
            (
                "subscription_tier",
                pick([t for t in _ENUMS["subscription_tier"] if t != cust["subscription_tier"]]),
            ),
            ("task_type", pick([t for t in _ENUMS["task_type"] if t != md.get("task_type")])),
        ]
        f, v = pick(options)
        md[f] = v
        return f, f"{v!r}"
    if kind == "high_cardinality_name":
        f = pick(["feature_id", "component_id"])
        base = md.get(f) or "retriever"
        md[f] = pick(
            [f"{base}_2026-01-{int(rng.integers(1, 31)):02d}", f"{base}_{_token(rng, 12, _HEX)}"]
        )
        return f, f"{md[f]!r}"
    raise ValueError(f"kind={kind!r} is not one of {', '.join(_MISTAKE_KINDS)}")


def make_corpus(
    n: int = 20_000,
    *,
    mistake_share: float = 0.5,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
) -> Corpus:
    """Generate ``n`` records, ``mistake_share`` of them with one labelled mistake.

    ``weights`` overrides the relative weights of the default mix (listed with their
    descriptions by ``make_corpus(...).kinds``; a kind with weight 0 never appears).
    ``Corpus.score(validator)`` then measures a validator on it.

    Example:
        >>> c = make_corpus(50, seed=3)
        >>> len(c.records), sorted(c.labels.columns)
        (50, ['detail', 'field', 'kind', 'row'])
    """
    if not 0 <= mistake_share <= 1:
        raise ValueError(f"mistake_share={mistake_share!r} must be between 0 and 1")
    rng = np.random.default_rng(seed)
    customers = _customers(rng)
    w = {k: v[0] for k, v in _MISTAKE_KINDS.items()}
    if weights:
        unknown = set(weights) - set(w)
        if unknown:
            raise ValueError(
                f"weights has unknown kinds {sorted(unknown)}; known: {', '.join(_MISTAKE_KINDS)}"
            )
        w.update(weights)
    kinds = [k for k in w if w[k] > 0]
    p = np.array([w[k] for k in kinds], dtype=float)
    p /= p.sum()
    n_bad = round(n * mistake_share)
    is_bad = np.zeros(n, dtype=bool)
    is_bad[rng.choice(n, n_bad, replace=False)] = True
    drawn = rng.choice(len(kinds), n)
    drawn = rng.choice(len(kinds), n, p=p) if len(kinds) else drawn
    cust_rows = customers.to_dict("records")
    cust_idx = rng.integers(len(cust_rows), size=n)
    records, labels = [], []
    for i in range(n):
        cust = cust_rows[int(cust_idx[i])]
        md = _valid(rng, cust)
        if is_bad[i]:
            kind = kinds[int(drawn[i])]
            field, detail = _mistake(kind, md, rng, cust, customers)
        else:
            kind, field, detail = "valid", "", ""
        records.append(md)
        labels.append((i, kind, field, detail))
    lab = pd.DataFrame(labels, columns=["row", "kind", "field", "detail"])
    return Corpus(
        records=records,
        labels=lab,
        customers=customers[["customer_id", "organization_id", "subscription_tier"]],
        seed=seed,
        weights=w,
    )


@dataclass
class Score:
    """Catch and false-alarm rates of a validator on a corpus.

    ``by_kind``: kind, schema_catchable, records, caught, catch_rate, located_rate (the error
    names the broken field). ``false_alarms``: valid records flagged, with their errors.
    """

    catch_rate: float
    located_rate: float
    false_alarm_rate: float
    n_mistakes: int
    n_valid: int
    by_kind: pd.DataFrame
    false_alarms: pd.DataFrame
    seconds: float


def _score(corpus: Corpus, validator: Validator | None) -> Score:
    validator = validator or DEFAULT_VALIDATOR
    rep = validate_many(corpus.frame(), validator=validator)
    lab = corpus.labels.copy()
    flagged = ~rep.ok.to_numpy()
    lab["caught"] = flagged[lab["row"].to_numpy()]
    err_pairs = set(
        zip(rep.errors["row"].to_numpy().tolist(), rep.errors["field"].tolist(), strict=True)
    )
    lab["located"] = [(r, f) in err_pairs for r, f in zip(lab["row"], lab["field"], strict=True)]
    bad = lab[lab["kind"] != "valid"]
    good = lab[lab["kind"] == "valid"]
    by_kind = (
        bad.groupby("kind", sort=False)
        .agg(records=("row", "size"), caught=("caught", "sum"), located=("located", "sum"))
        .reset_index()
    )
    by_kind["schema_catchable"] = by_kind["kind"].map(lambda k: _MISTAKE_KINDS[k][2])
    by_kind["description"] = by_kind["kind"].map(lambda k: _MISTAKE_KINDS[k][1])
    by_kind["catch_rate"] = by_kind["caught"] / by_kind["records"]
    by_kind["located_rate"] = by_kind["located"] / by_kind["records"]
    order = list(_MISTAKE_KINDS)
    by_kind = (
        by_kind.assign(_o=by_kind["kind"].map(order.index))
        .sort_values("_o")
        .drop(columns=["_o", "located"])
        .reset_index(drop=True)
    )
    fa_rows = good.loc[good["caught"], "row"].to_numpy()
    fa = rep.errors[rep.errors["row"].isin(fa_rows)].reset_index(drop=True)
    return Score(
        catch_rate=float(bad["caught"].mean()) if len(bad) else float("nan"),
        located_rate=float(bad["located"].mean()) if len(bad) else float("nan"),
        false_alarm_rate=float(good["caught"].mean()) if len(good) else float("nan"),
        n_mistakes=len(bad),
        n_valid=len(good),
        by_kind=by_kind[
            [
                "kind",
                "description",
                "schema_catchable",
                "records",
                "caught",
                "catch_rate",
                "located_rate",
            ]
        ],
        false_alarms=fa,
        seconds=rep.seconds,
    )
