"""The pattern catalog: eleven common ways to tag AI calls, each with a builder that produces
valid metadata, the business question it answers, and an example query on simulated calls.

Fields that the simulated record does not carry (a store, a flag, an A/B arm, a workflow step,
a cost center, a reseller) are *derived deterministically* from the simulated calls by
:meth:`Pattern.derive` (a seeded hash of the session, customer or organization, or the call's
position in its trace). The derivation is documented per pattern in ``derived``.

Example:
    >>> p = PATTERNS["ab_test"]
    >>> md = p.example()
    >>> md["variant"], md["experiment_id"]
    ('treatment', 'exp_summary_prompt_v2')
    >>> len(PATTERNS) >= 10
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from showcase_lib.metadata._checks import MetadataError
from showcase_lib.metadata._validate import DEFAULT_VALIDATOR

# --------------------------------------------------------------------------- derivations


def bucket(values: pd.Series, salt: str, n: int) -> np.ndarray:
    """A deterministic bucket in ``[0, n)`` per value (a seeded hash; missing -> -1).

    Hashes each distinct value once, so it is cheap on categorical or repetitive columns.

    Example:
        >>> b = bucket(pd.Series(["a", "b", "a"]), "exp1", 2)
        >>> bool(b[0] == b[2])
        True
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniq = values.cat.categories.astype(str).to_numpy(dtype=object)
    else:
        codes, uniq_idx = pd.factorize(values)
        uniq = np.asarray(uniq_idx, dtype=object).astype(str).astype(object)
    key = (salt + "0" * 16)[:16]
    h = (pd.util.hash_array(uniq, hash_key=key) % np.uint64(n)).astype(np.int64)
    return np.where(codes >= 0, np.append(h, -1)[codes], -1)


def step_in_trace(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Position of each call in its trace (0-based) and the trace's number of calls.

    Example:
        >>> df = pd.DataFrame({"trace_id": ["t1", "t1", "t2"]})
        >>> [a.tolist() for a in step_in_trace(df)]
        [[0, 1, 0], [2, 2, 1]]
    """
    g = calls.groupby("trace_id", observed=True, sort=False)
    return g.cumcount().to_numpy(), g["trace_id"].transform("size").to_numpy()


def _stage(step: np.ndarray, size: np.ndarray, first: str, middle: str, last: str) -> np.ndarray:
    """first / middle / last by position; a single-call trace is its own last step."""
    return np.where(step == size - 1, last, np.where(step == 0, first, middle))


# --------------------------------------------------------------------------- the pattern


#: The default environment of a pattern's metadata (most cost is production traffic).
_PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class Pattern:
    """One metadata pattern: the question it answers, the tags it sets, how to query them.

    ``tags`` lists every key the pattern's metadata can carry, in output order. A key is
    required unless ``defaults`` gives it a default (``None``: left out when not given) or
    ``fixed`` sets it (``task_type="agent_step"``: not an argument). ``choices`` restricts a
    key to a few values. :meth:`build` returns validated metadata; :meth:`example` builds it
    with ``example_kwargs``; :meth:`derive` adds the pattern's fields to simulated calls;
    :meth:`run` derives, then answers the question (a DataFrame).

    Example:
        >>> p = Pattern(name="env", title="Environments", industry="Any", question="Where?",
        ...             fields=("environment",), answer=len,
        ...             tags=("customer_id", "organization_id", "product_id", "feature_id",
        ...                   "environment"),
        ...             defaults={"environment": "production"})
        >>> p.build(customer_id="cust_1", organization_id="org_1", product_id="p",
        ...         feature_id="chat")["environment"]
        'production'
        >>> p.build(customer_id="cust_1")
        Traceback (most recent call last):
        ...
        TypeError: env.build() missing required keyword argument(s): organization_id, product_id, feature_id
    """

    name: str
    title: str
    industry: str
    question: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    answer: Callable[[pd.DataFrame], pd.DataFrame]
    example_kwargs: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, str | None] = field(default_factory=dict)
    fixed: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    derive_fn: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None
    derived: str = "nothing: every field is in the simulated record"
    query: str = ""

    def build(self, **values: Any) -> dict[str, Any]:
        """Validated metadata from the pattern's keys (raises ``MetadataError`` if invalid).

        Unknown or missing keys raise ``TypeError``; a value outside ``choices`` raises
        ``ValueError``; both name the key.
        """
        accepted = [k for k in self.tags if k not in self.fixed]
        unknown = [k for k in values if k not in accepted]
        if unknown:
            raise TypeError(
                f"{self.name}.build() got unexpected keyword argument(s): {', '.join(unknown)}"
                f" (accepted: {', '.join(accepted)})"
            )
        missing = [k for k in accepted if k not in values and k not in self.defaults]
        if missing:
            raise TypeError(
                f"{self.name}.build() missing required keyword argument(s): {', '.join(missing)}"
            )
        for key, allowed in self.choices.items():
            if key in values and values[key] not in allowed:
                raise ValueError(f"{key}={values[key]!r} is not one of {', '.join(allowed)}")
        merged = {**self.defaults, **values, **self.fixed}
        md = {k: merged[k] for k in self.tags if merged.get(k) is not None}
        report = DEFAULT_VALIDATOR.validate(md)
        if not report.ok:
            raise MetadataError(report)
        return md

    def example(self) -> dict[str, Any]:
        """The pattern's example metadata (validated)."""
        return self.build(**self.example_kwargs)

    def to_json(self) -> str:
        """The example as pretty JSON (the showcase plan's JSON output format)."""
        return json.dumps(self.example(), indent=2)

    def derive(self, calls: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
        """Simulated calls with this pattern's extra fields added (a copy)."""
        return calls if self.derive_fn is None else self.derive_fn(calls, seed)

    def run(self, calls: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
        """Derive the pattern's fields, then answer its question."""
        return self.answer(self.derive(calls, seed))


def _cost_table(df: pd.DataFrame, by: list[str], *, per: str | None = None) -> pd.DataFrame:
    agg = {"calls": ("cost_usd", "size"), "cost_usd": ("cost_usd", "sum")}
    if per:
        agg[per + "s"] = (per, "nunique")
    out = df.groupby(by, observed=True).agg(**agg).reset_index()
    out["cost_share"] = out["cost_usd"] / out["cost_usd"].sum()
    out["cost_per_1k_calls"] = 1000 * out["cost_usd"] / out["calls"]
    if per:
        out[f"cost_per_{per.removesuffix('_id')}"] = out["cost_usd"] / out[per + "s"]
    return out


# ---- the answers and derivations of the eleven patterns ---------------------
# ---- 1. SaaS ----------------------------------------------------------------


def _saas_answer(df: pd.DataFrame) -> pd.DataFrame:
    days = max((df["timestamp"].max() - df["timestamp"].min()) / pd.Timedelta(days=1), 1.0)
    out = _cost_table(df, ["subscription_tier"], per="customer_id")
    out["cost_per_customer_30d"] = out["cost_per_customer"] * 30 / days
    return out.drop(columns=["cost_per_customer"])


# ---- 2. multi-tenant --------------------------------------------------------


def _tenant_answer(df: pd.DataFrame) -> pd.DataFrame:
    per_cust = df.groupby(["organization_id", "customer_id"], observed=True)["cost_usd"].sum()
    org = per_cust.groupby(level=0, observed=True).agg(["sum", "max", "size"])
    org.columns = ["cost_usd", "top_customer_cost", "customers"]
    org["top_customer_share"] = org["top_customer_cost"] / org["cost_usd"]
    org["cost_share"] = org["cost_usd"] / org["cost_usd"].sum()
    return (
        org.drop(columns="top_customer_cost")
        .sort_values("cost_usd", ascending=False)
        .reset_index()
        .head(10)
    )


# ---- 3. e-commerce ----------------------------------------------------------


def _channel_of(user_agent: pd.Series) -> np.ndarray:
    ua = user_agent.astype("string[pyarrow]")
    return np.select(
        [
            _b(ua.str.startswith("web")),
            _b(ua.str.contains("ios|android")),
            _b(ua.str.contains("slack")),
        ],
        ["web", "app", "chat"],
        "api",
    )


def _b(s: pd.Series) -> np.ndarray:
    return s.fillna(False).to_numpy(dtype=bool)


def _ecommerce_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls.copy()
    k = bucket(out["session_id"], f"store{seed}", 3)
    out["store_id"] = (
        out["customer_id"].astype("string[pyarrow]").str.replace("cust_", "store_")
        + "_"
        + pd.Series(k, index=out.index).astype(str)
    )
    out["channel"] = _channel_of(out["user_agent"])
    return out


def _ecommerce_answer(df: pd.DataFrame) -> pd.DataFrame:
    out = _cost_table(df, ["channel"], per="store_id")
    return out.sort_values("cost_usd", ascending=False, ignore_index=True)


# ---- 4. feature flags -------------------------------------------------------


def _flag_derive(calls: pd.DataFrame, seed: int, rollout: float = 0.3) -> pd.DataFrame:
    out = calls.copy()
    on = bucket(out["customer_id"], f"flag{seed}", 1000) < rollout * 1000
    out["flag_key"] = "smart_replies"
    out["flag_variant"] = np.where(on, "on", "off")
    return out


def _flag_answer(df: pd.DataFrame) -> pd.DataFrame:
    return _cost_table(df, ["flag_key", "flag_variant"], per="customer_id")


# ---- 5. A/B tests -----------------------------------------------------------

ARMS = ("control", "treatment")


def _ab_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls.copy()
    out["experiment_id"] = "exp_summary_prompt_v2"
    out["variant"] = np.array(ARMS)[bucket(out["session_id"], f"ab{seed}", 2)]
    return out


def _ab_answer(df: pd.DataFrame) -> pd.DataFrame:
    per_session = df.groupby(["variant", "session_id"], observed=True)["cost_usd"].sum()
    g = per_session.groupby(level=0, observed=True)
    out = pd.DataFrame({"sessions": g.size(), "cost_per_session": g.mean(), "sd": g.std(ddof=1)})
    out["se"] = out["sd"] / np.sqrt(out["sessions"])
    c, t = out.loc["control"], out.loc["treatment"]
    diff = t["cost_per_session"] - c["cost_per_session"]
    se = float(np.hypot(c["se"], t["se"]))
    out["diff_vs_control"] = [0.0, diff]
    out["ci95_low"] = [np.nan, diff - 1.96 * se]
    out["ci95_high"] = [np.nan, diff + 1.96 * se]
    return out.drop(columns=["sd", "se"]).reset_index()


# ---- 6. agents and multi-step workflows -------------------------------------


def _agent_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls[calls["task_type"] == "agent_step"].copy()
    step, size = step_in_trace(out)
    out["workflow_step"] = _stage(step, size, "plan", "tool_call", "answer")
    out["component_id"] = out["feature_id"].astype(str)
    return out


def _agent_answer(df: pd.DataFrame) -> pd.DataFrame:
    runs = df.groupby("trace_id", observed=True).agg(
        steps=("cost_usd", "size"), cost_usd=("cost_usd", "sum")
    )
    top = runs["cost_usd"].nlargest(max(1, len(runs) // 100)).sum()
    return pd.DataFrame(
        [
            {
                "runs": len(runs),
                "mean_steps": runs["steps"].mean(),
                "max_steps": int(runs["steps"].max()),
                "cost_per_run_p50": runs["cost_usd"].median(),
                "cost_per_run_p95": runs["cost_usd"].quantile(0.95),
                "cost_per_run_max": runs["cost_usd"].max(),
                "top_1pct_runs_cost_share": top / runs["cost_usd"].sum(),
            }
        ]
    )


# ---- 7. retrieval pipelines (RAG) -------------------------------------------

RAG_STAGES = ("retrieve", "rerank", "generate")


def _rag_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls[calls["task_type"] == "rag_qa"].copy()
    step, size = step_in_trace(out)
    out["pipeline_stage"] = _stage(step, size, *RAG_STAGES)
    return out


def _rag_answer(df: pd.DataFrame) -> pd.DataFrame:
    out = _cost_table(df, ["pipeline_stage"], per="trace_id")
    out = out.rename(columns={"trace_ids": "questions", "cost_per_trace": "cost_per_question"})
    order = {s: i for i, s in enumerate(RAG_STAGES)}
    return out.sort_values("pipeline_stage", key=lambda s: s.map(order), ignore_index=True)


# ---- 8. support bots --------------------------------------------------------


def _support_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls[calls["product_id"] == "support_desk"].copy()
    out["ticket_id"] = out["session_id"].astype("string[pyarrow]").str.replace("sess_", "tkt_")
    out["channel"] = _channel_of(out["user_agent"])
    return out


def _support_answer(df: pd.DataFrame) -> pd.DataFrame:
    out = _cost_table(df, ["feature_id"], per="ticket_id")
    out = out.rename(
        columns={"ticket_ids": "conversations", "cost_per_ticket": "cost_per_conversation"}
    )
    return out.sort_values("cost_usd", ascending=False, ignore_index=True)


# ---- 9. internal chargeback -------------------------------------------------


def _chargeback_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls.copy()
    out["cost_center"] = "cc-" + out["product_id"].astype("string[pyarrow]").str.replace("_", "-")
    return out


def _chargeback_answer(df: pd.DataFrame) -> pd.DataFrame:
    p = df.pivot_table(
        index="cost_center",
        columns="environment",
        values="cost_usd",
        aggfunc="sum",
        observed=True,
        fill_value=0.0,
    )
    p.columns = [str(c) for c in p.columns]
    p["total"] = p.sum(axis=1)
    p["non_production_share"] = 1 - p.get("production", 0.0) / p["total"]
    return p.sort_values("total", ascending=False).reset_index()


# ---- 10. resellers and marketplaces -----------------------------------------

RESELLERS = ("direct", "partner_north", "partner_south", "marketplace_aws")


def _reseller_derive(calls: pd.DataFrame, seed: int) -> pd.DataFrame:
    out = calls.copy()
    out["reseller_id"] = np.array(RESELLERS)[
        bucket(out["organization_id"], f"res{seed}", len(RESELLERS))
    ]
    return out


def _reseller_answer(df: pd.DataFrame, markup: float = 0.3) -> pd.DataFrame:
    out = _cost_table(df, ["reseller_id"], per="organization_id")
    out = out.rename(columns={"organization_ids": "organizations"})
    out["invoice_usd"] = out["cost_usd"] * (1 + markup)
    return out.drop(columns=["cost_per_organization"]).sort_values(
        "cost_usd", ascending=False, ignore_index=True
    )


# ---- 11. environments -------------------------------------------------------


def _env_answer(df: pd.DataFrame) -> pd.DataFrame:
    return _cost_table(df, ["environment"]).sort_values(
        "cost_usd", ascending=False, ignore_index=True
    )


_BASE = {"customer_id": "cust_0042", "organization_id": "org_007"}
_WHO = ("customer_id", "organization_id")
_WHAT = ("product_id", "feature_id")

PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern(
            name="saas",
            title="SaaS application",
            industry="B2B software",
            question="What does AI cost per customer per month in each subscription tier?",
            fields=(*_WHO, "subscription_tier", *_WHAT),
            tags=(
                *_WHO,
                "subscription_tier",
                "subscription_id",
                *_WHAT,
                "task_type",
                "environment",
            ),
            defaults={"environment": _PRODUCTION, "subscription_id": None, "task_type": None},
            example_kwargs={
                **_BASE,
                "subscription_tier": "pro",
                "subscription_id": "sub_1QxAcme2026",
                "product_id": "doc_studio",
                "feature_id": "doc_summary",
                "task_type": "summarization",
            },
            answer=_saas_answer,
            query="cost by subscription_tier, / customers, scaled to 30 days",
        ),
        Pattern(
            name="multi_tenant",
            title="Multi-tenant platform",
            industry="Platforms",
            question="Which tenants drive the cost, and is it one workspace or spread out?",
            fields=("organization_id", "customer_id"),
            tags=(
                "organization_id",
                "customer_id",
                "user_id",
                "subscription_tier",
                *_WHAT,
                "environment",
            ),
            defaults={"environment": _PRODUCTION, "user_id": None, "subscription_tier": None},
            example_kwargs={
                **_BASE,
                "user_id": "user_8f2k1",
                "product_id": "support_desk",
                "feature_id": "kb_answer",
            },
            answer=_tenant_answer,
            query="cost by organization_id, and its top customer's share",
        ),
        Pattern(
            name="ecommerce",
            title="E-commerce",
            industry="Retail",
            question="What does AI cost per storefront and per shopping channel?",
            fields=("customer_id", "store_id", "channel", "feature_id"),
            tags=(*_WHO, "store_id", "channel", *_WHAT, "session_id", "environment"),
            defaults={
                "channel": "web",
                "product_id": "shop_assistant",
                "environment": _PRODUCTION,
                "session_id": None,
            },
            example_kwargs={
                **_BASE,
                "store_id": "store_0042_eu",
                "feature_id": "product_search",
                "channel": "app",
                "session_id": "sess_9c1e77",
            },
            answer=_ecommerce_answer,
            derive_fn=_ecommerce_derive,
            derived="store_id: seeded hash of the session into one of 3 stores per customer; "
            "channel: from user_agent (web, app, chat, api)",
            query="cost by channel, stores per channel, cost per store",
        ),
        Pattern(
            name="feature_flags",
            title="Feature flags",
            industry="Any product team",
            question="How much spend sits behind each flag variant (what turning it off would "
            "save)?",
            fields=("flag_key", "flag_variant"),
            tags=(*_WHO, *_WHAT, "flag_key", "flag_variant", "environment"),
            defaults={"environment": _PRODUCTION},
            example_kwargs={
                **_BASE,
                "product_id": "support_desk",
                "feature_id": "chat_widget",
                "flag_key": "smart_replies",
                "flag_variant": "on",
            },
            answer=_flag_answer,
            derive_fn=_flag_derive,
            derived="flag_variant: 'on' for a seeded 30% of customers (hash of customer_id)",
            query="cost by flag_key, flag_variant; customers and cost per customer",
        ),
        Pattern(
            name="ab_test",
            title="A/B test",
            industry="Growth and ML teams",
            question="Does the treatment change the AI cost per session?",
            fields=("experiment_id", "variant", "session_id"),
            tags=(*_WHO, *_WHAT, "experiment_id", "variant", "session_id", "environment"),
            defaults={"environment": _PRODUCTION},
            choices={"variant": ARMS},
            example_kwargs={
                **_BASE,
                "product_id": "doc_studio",
                "feature_id": "doc_summary",
                "experiment_id": "exp_summary_prompt_v2",
                "variant": "treatment",
                "session_id": "sess_5b51b6c0b6",
            },
            answer=_ab_answer,
            derive_fn=_ab_derive,
            derived="variant: seeded hash of session_id into control/treatment (50/50); "
            "nothing differs between arms, so this is an A/A test",
            query="cost per session by variant; difference with a 95% interval",
        ),
        Pattern(
            name="agents",
            title="Agents and multi-step workflows",
            industry="AI products",
            question="What does one agent run cost, and how much goes to runaway runs?",
            fields=("trace_id", "component_id", "workflow_step"),
            tags=(
                *_WHO,
                *_WHAT,
                "component_id",
                "task_type",
                "trace_id",
                "session_id",
                "workflow_step",
                "environment",
            ),
            defaults={"session_id": None, "environment": _PRODUCTION},
            fixed={"task_type": "agent_step"},
            example_kwargs={
                **_BASE,
                "product_id": "dev_copilot",
                "feature_id": "pr_agent",
                "component_id": "pr_agent",
                "trace_id": "trace_54562afe0b",
                "workflow_step": "tool_call",
            },
            answer=_agent_answer,
            derive_fn=_agent_derive,
            derived="agent_step calls only; workflow_step from the call's position in its "
            "trace (first = plan, last = answer, others = tool_call)",
            query="cost and steps per trace_id; p50/p95/max; share of the top 1% runs",
        ),
        Pattern(
            name="rag",
            title="Retrieval pipelines (RAG)",
            industry="Knowledge products",
            question="What does one answered question cost, and which pipeline stage dominates?",
            fields=("trace_id", "pipeline_stage"),
            tags=(*_WHO, *_WHAT, "task_type", "pipeline_stage", "trace_id", "environment"),
            defaults={"environment": _PRODUCTION},
            fixed={"task_type": "rag_qa"},
            choices={"pipeline_stage": RAG_STAGES},
            example_kwargs={
                **_BASE,
                "product_id": "support_desk",
                "feature_id": "kb_answer",
                "pipeline_stage": "generate",
                "trace_id": "trace_d2bd712c25",
            },
            answer=_rag_answer,
            derive_fn=_rag_derive,
            derived="rag_qa calls only; pipeline_stage from the call's position in its trace "
            "(first = retrieve, last = generate, others = rerank)",
            query="cost by pipeline_stage; questions (traces) and cost per question",
        ),
        Pattern(
            name="support_bot",
            title="Support bot",
            industry="Customer service",
            question="What does the bot cost per conversation, feature by feature?",
            fields=("session_id", "ticket_id", "feature_id"),
            tags=(*_WHO, *_WHAT, "session_id", "ticket_id", "channel", "environment"),
            defaults={
                "ticket_id": None,
                "channel": "chat",
                "product_id": "support_desk",
                "environment": _PRODUCTION,
            },
            example_kwargs={
                **_BASE,
                "feature_id": "ticket_triage",
                "session_id": "sess_20aa0e2584",
                "ticket_id": "tkt_48213",
            },
            answer=_support_answer,
            derive_fn=_support_derive,
            derived="support_desk calls only; ticket_id = the session (one conversation, "
            "one ticket)",
            query="cost by feature_id; conversations and cost per conversation",
        ),
        Pattern(
            name="internal_chargeback",
            title="Internal chargeback",
            industry="Enterprise IT / FinOps",
            question="What does each internal team owe this month, and how much is non-production?",
            fields=("cost_center", "environment"),
            tags=(*_WHO, *_WHAT, "cost_center", "environment"),
            defaults={"customer_id": "cust_internal", "organization_id": "org_internal"},
            example_kwargs={
                "cost_center": "cc-doc-studio",
                "product_id": "doc_studio",
                "feature_id": "contract_extract",
                "environment": "staging",
            },
            answer=_chargeback_answer,
            derive_fn=_chargeback_derive,
            derived="cost_center: the team that owns the product (cc-<product>)",
            query="cost by cost_center x environment; non-production share",
        ),
        Pattern(
            name="reseller",
            title="Resellers and marketplaces",
            industry="Channel sales",
            question="What AI cost does each partner's book of customers generate, and what "
            "do we invoice at cost plus 30%?",
            fields=("reseller_id", "organization_id"),
            tags=(
                "reseller_id",
                "organization_id",
                "customer_id",
                "subscription_tier",
                *_WHAT,
                "environment",
            ),
            defaults={"environment": _PRODUCTION, "subscription_tier": None},
            example_kwargs={
                **_BASE,
                "reseller_id": "partner_north",
                "product_id": "data_insights",
                "feature_id": "sql_agent",
                "subscription_tier": "enterprise",
            },
            answer=_reseller_answer,
            derive_fn=_reseller_derive,
            derived="reseller_id: seeded hash of organization_id into direct / 2 partners / "
            "a marketplace",
            query="cost by reseller_id; organizations; invoice = cost x 1.3",
        ),
        Pattern(
            name="environments",
            title="Environment separation",
            industry="Any team",
            question="How much do we spend outside production?",
            fields=("environment",),
            tags=(*_WHO, *_WHAT, "environment"),
            example_kwargs={
                **_BASE,
                "product_id": "dev_copilot",
                "feature_id": "code_complete",
                "environment": "development",
            },
            answer=_env_answer,
            query="cost by environment",
        ),
    )
}


def catalog() -> pd.DataFrame:
    """The catalog as a table: pattern, industry, question, key fields, what is derived.

    Example:
        >>> catalog().shape[0] == len(PATTERNS)
        True
    """
    return pd.DataFrame(
        [
            {
                "pattern": p.name,
                "title": p.title,
                "industry": p.industry,
                "question": p.question,
                "key_fields": ", ".join(p.fields),
                "derived_from_simulation": p.derived,
            }
            for p in PATTERNS.values()
        ]
    )
