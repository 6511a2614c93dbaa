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

from showcase_lib.metadata.validate import DEFAULT_VALIDATOR, MetadataError

__all__ = ["PATTERNS", "Pattern", "bucket", "catalog", "step_in_trace"]


def _finish(**fields: Any) -> dict[str, Any]:
    """Drop unset fields, validate, and return the metadata (raises MetadataError)."""
    md = {k: v for k, v in fields.items() if v is not None}
    report = DEFAULT_VALIDATOR.validate(md)
    if not report.ok:
        raise MetadataError(report)
    return md


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


@dataclass(frozen=True)
class Pattern:
    """One metadata pattern.

    ``build(**kwargs)`` returns validated metadata; ``example()`` builds it with
    ``example_kwargs``; ``derive(calls, seed)`` adds the pattern's fields to simulated calls;
    ``answer(calls)`` runs the example query (on derived calls) and returns a DataFrame.
    """

    name: str
    title: str
    industry: str
    question: str
    fields: tuple[str, ...]
    build: Callable[..., dict[str, Any]]
    example_kwargs: Mapping[str, Any]
    answer: Callable[[pd.DataFrame], pd.DataFrame]
    derive_fn: Callable[[pd.DataFrame, int], pd.DataFrame] | None = None
    derived: str = "nothing: every field is in the simulated record"
    query: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

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


# ---- 1. SaaS ----------------------------------------------------------------


def saas(
    *,
    customer_id: str,
    organization_id: str,
    subscription_tier: str,
    product_id: str,
    feature_id: str,
    environment: str = "production",
    subscription_id: str | None = None,
    task_type: str | None = None,
) -> dict[str, Any]:
    """SaaS application: who pays (customer, organization, tier) and what they used."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        subscription_tier=subscription_tier,
        subscription_id=subscription_id,
        product_id=product_id,
        feature_id=feature_id,
        task_type=task_type,
        environment=environment,
    )


def _saas_answer(df: pd.DataFrame) -> pd.DataFrame:
    days = max((df["timestamp"].max() - df["timestamp"].min()) / pd.Timedelta(days=1), 1.0)
    out = _cost_table(df, ["subscription_tier"], per="customer_id")
    out["cost_per_customer_30d"] = out["cost_per_customer"] * 30 / days
    return out.drop(columns=["cost_per_customer"])


# ---- 2. multi-tenant --------------------------------------------------------


def multi_tenant(
    *,
    organization_id: str,
    customer_id: str,
    product_id: str,
    feature_id: str,
    environment: str = "production",
    user_id: str | None = None,
    subscription_tier: str | None = None,
) -> dict[str, Any]:
    """Multi-tenant platform: tenant (organization) -> workspace (customer) -> user."""
    return _finish(
        organization_id=organization_id,
        customer_id=customer_id,
        user_id=user_id,
        subscription_tier=subscription_tier,
        product_id=product_id,
        feature_id=feature_id,
        environment=environment,
    )


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


def ecommerce(
    *,
    customer_id: str,
    organization_id: str,
    store_id: str,
    feature_id: str,
    channel: str = "web",
    product_id: str = "shop_assistant",
    environment: str = "production",
    session_id: str | None = None,
) -> dict[str, Any]:
    """E-commerce: merchant (customer), storefront and shopping channel per call."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        store_id=store_id,
        channel=channel,
        product_id=product_id,
        feature_id=feature_id,
        session_id=session_id,
        environment=environment,
    )


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


def feature_flag(
    *,
    customer_id: str,
    organization_id: str,
    product_id: str,
    feature_id: str,
    flag_key: str,
    flag_variant: str,
    environment: str = "production",
) -> dict[str, Any]:
    """Feature flags: which flag and which variant served the call."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        flag_key=flag_key,
        flag_variant=flag_variant,
        environment=environment,
    )


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


def ab_test(
    *,
    customer_id: str,
    organization_id: str,
    product_id: str,
    feature_id: str,
    experiment_id: str,
    variant: str,
    session_id: str,
    environment: str = "production",
) -> dict[str, Any]:
    """A/B test: experiment and arm per call, assigned per session (the unit of analysis)."""
    if variant not in ARMS:
        raise ValueError(f"variant={variant!r} is not one of {', '.join(ARMS)}")
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        experiment_id=experiment_id,
        variant=variant,
        session_id=session_id,
        environment=environment,
    )


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


def agent_workflow(
    *,
    customer_id: str,
    organization_id: str,
    product_id: str,
    feature_id: str,
    trace_id: str,
    workflow_step: str,
    component_id: str,
    session_id: str | None = None,
    environment: str = "production",
) -> dict[str, Any]:
    """Agents: one trace per run, the agent (component) and the step of each call."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        component_id=component_id,
        task_type="agent_step",
        trace_id=trace_id,
        session_id=session_id,
        workflow_step=workflow_step,
        environment=environment,
    )


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


def rag_pipeline(
    *,
    customer_id: str,
    organization_id: str,
    product_id: str,
    feature_id: str,
    pipeline_stage: str,
    trace_id: str,
    environment: str = "production",
) -> dict[str, Any]:
    """RAG: the stage of the pipeline per call, one trace per answered question."""
    if pipeline_stage not in RAG_STAGES:
        raise ValueError(f"pipeline_stage={pipeline_stage!r} is not one of {', '.join(RAG_STAGES)}")
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        task_type="rag_qa",
        pipeline_stage=pipeline_stage,
        trace_id=trace_id,
        environment=environment,
    )


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


def support_bot(
    *,
    customer_id: str,
    organization_id: str,
    feature_id: str,
    session_id: str,
    ticket_id: str | None = None,
    channel: str = "chat",
    product_id: str = "support_desk",
    environment: str = "production",
) -> dict[str, Any]:
    """Support bot: conversation (session) and ticket per call, and the bot feature."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        session_id=session_id,
        ticket_id=ticket_id,
        channel=channel,
        environment=environment,
    )


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


def internal_chargeback(
    *,
    cost_center: str,
    product_id: str,
    feature_id: str,
    environment: str,
    customer_id: str = "cust_internal",
    organization_id: str = "org_internal",
) -> dict[str, Any]:
    """Internal chargeback: exactly one cost center per call (never two allocation keys)."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        cost_center=cost_center,
        environment=environment,
    )


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


def reseller(
    *,
    reseller_id: str,
    organization_id: str,
    customer_id: str,
    product_id: str,
    feature_id: str,
    environment: str = "production",
    subscription_tier: str | None = None,
) -> dict[str, Any]:
    """Resellers and marketplaces: the channel partner who sold the end customer."""
    return _finish(
        reseller_id=reseller_id,
        organization_id=organization_id,
        customer_id=customer_id,
        subscription_tier=subscription_tier,
        product_id=product_id,
        feature_id=feature_id,
        environment=environment,
    )


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


def environment_split(
    *, customer_id: str, organization_id: str, product_id: str, feature_id: str, environment: str
) -> dict[str, Any]:
    """Environments: the same call shape in production, staging and development."""
    return _finish(
        customer_id=customer_id,
        organization_id=organization_id,
        product_id=product_id,
        feature_id=feature_id,
        environment=environment,
    )


def _env_answer(df: pd.DataFrame) -> pd.DataFrame:
    return _cost_table(df, ["environment"]).sort_values(
        "cost_usd", ascending=False, ignore_index=True
    )


_BASE = {"customer_id": "cust_0042", "organization_id": "org_007"}

PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern(
            "saas",
            "SaaS application",
            "B2B software",
            "What does AI cost per customer per month in each subscription tier?",
            ("customer_id", "organization_id", "subscription_tier", "product_id", "feature_id"),
            saas,
            {
                **_BASE,
                "subscription_tier": "pro",
                "subscription_id": "sub_1QxAcme2026",
                "product_id": "doc_studio",
                "feature_id": "doc_summary",
                "task_type": "summarization",
            },
            _saas_answer,
            query="cost by subscription_tier, / customers, scaled to 30 days",
        ),
        Pattern(
            "multi_tenant",
            "Multi-tenant platform",
            "Platforms",
            "Which tenants drive the cost, and is it one workspace or spread out?",
            ("organization_id", "customer_id"),
            multi_tenant,
            {
                **_BASE,
                "user_id": "user_8f2k1",
                "product_id": "support_desk",
                "feature_id": "kb_answer",
            },
            _tenant_answer,
            query="cost by organization_id, and its top customer's share",
        ),
        Pattern(
            "ecommerce",
            "E-commerce",
            "Retail",
            "What does AI cost per storefront and per shopping channel?",
            ("customer_id", "store_id", "channel", "feature_id"),
            ecommerce,
            {
                **_BASE,
                "store_id": "store_0042_eu",
                "feature_id": "product_search",
                "channel": "app",
                "session_id": "sess_9c1e77",
            },
            _ecommerce_answer,
            _ecommerce_derive,
            derived="store_id: seeded hash of the session into one of 3 stores per customer; "
            "channel: from user_agent (web, app, chat, api)",
            query="cost by channel, stores per channel, cost per store",
        ),
        Pattern(
            "feature_flags",
            "Feature flags",
            "Any product team",
            "How much spend sits behind each flag variant (what turning it off would save)?",
            ("flag_key", "flag_variant"),
            feature_flag,
            {
                **_BASE,
                "product_id": "support_desk",
                "feature_id": "chat_widget",
                "flag_key": "smart_replies",
                "flag_variant": "on",
            },
            _flag_answer,
            _flag_derive,
            derived="flag_variant: 'on' for a seeded 30% of customers (hash of customer_id)",
            query="cost by flag_key, flag_variant; customers and cost per customer",
        ),
        Pattern(
            "ab_test",
            "A/B test",
            "Growth and ML teams",
            "Does the treatment change the AI cost per session?",
            ("experiment_id", "variant", "session_id"),
            ab_test,
            {
                **_BASE,
                "product_id": "doc_studio",
                "feature_id": "doc_summary",
                "experiment_id": "exp_summary_prompt_v2",
                "variant": "treatment",
                "session_id": "sess_5b51b6c0b6",
            },
            _ab_answer,
            _ab_derive,
            derived="variant: seeded hash of session_id into control/treatment (50/50); "
            "nothing differs between arms, so this is an A/A test",
            query="cost per session by variant; difference with a 95% interval",
        ),
        Pattern(
            "agents",
            "Agents and multi-step workflows",
            "AI products",
            "What does one agent run cost, and how much goes to runaway runs?",
            ("trace_id", "component_id", "workflow_step"),
            agent_workflow,
            {
                **_BASE,
                "product_id": "dev_copilot",
                "feature_id": "pr_agent",
                "component_id": "pr_agent",
                "trace_id": "trace_54562afe0b",
                "workflow_step": "tool_call",
            },
            _agent_answer,
            _agent_derive,
            derived="agent_step calls only; workflow_step from the call's position in its "
            "trace (first = plan, last = answer, others = tool_call)",
            query="cost and steps per trace_id; p50/p95/max; share of the top 1% runs",
        ),
        Pattern(
            "rag",
            "Retrieval pipelines (RAG)",
            "Knowledge products",
            "What does one answered question cost, and which pipeline stage dominates?",
            ("trace_id", "pipeline_stage"),
            rag_pipeline,
            {
                **_BASE,
                "product_id": "support_desk",
                "feature_id": "kb_answer",
                "pipeline_stage": "generate",
                "trace_id": "trace_d2bd712c25",
            },
            _rag_answer,
            _rag_derive,
            derived="rag_qa calls only; pipeline_stage from the call's position in its trace "
            "(first = retrieve, last = generate, others = rerank)",
            query="cost by pipeline_stage; questions (traces) and cost per question",
        ),
        Pattern(
            "support_bot",
            "Support bot",
            "Customer service",
            "What does the bot cost per conversation, feature by feature?",
            ("session_id", "ticket_id", "feature_id"),
            support_bot,
            {
                **_BASE,
                "feature_id": "ticket_triage",
                "session_id": "sess_20aa0e2584",
                "ticket_id": "tkt_48213",
            },
            _support_answer,
            _support_derive,
            derived="support_desk calls only; ticket_id = the session (one conversation, "
            "one ticket)",
            query="cost by feature_id; conversations and cost per conversation",
        ),
        Pattern(
            "internal_chargeback",
            "Internal chargeback",
            "Enterprise IT / FinOps",
            "What does each internal team owe this month, and how much is non-production?",
            ("cost_center", "environment"),
            internal_chargeback,
            {
                "cost_center": "cc-doc-studio",
                "product_id": "doc_studio",
                "feature_id": "contract_extract",
                "environment": "staging",
            },
            _chargeback_answer,
            _chargeback_derive,
            derived="cost_center: the team that owns the product (cc-<product>)",
            query="cost by cost_center x environment; non-production share",
        ),
        Pattern(
            "reseller",
            "Resellers and marketplaces",
            "Channel sales",
            "What AI cost does each partner's book of customers generate, and what do we "
            "invoice at cost plus 30%?",
            ("reseller_id", "organization_id"),
            reseller,
            {
                **_BASE,
                "reseller_id": "partner_north",
                "product_id": "data_insights",
                "feature_id": "sql_agent",
                "subscription_tier": "enterprise",
            },
            _reseller_answer,
            _reseller_derive,
            derived="reseller_id: seeded hash of organization_id into direct / 2 partners / "
            "a marketplace",
            query="cost by reseller_id; organizations; invoice = cost x 1.3",
        ),
        Pattern(
            "environments",
            "Environment separation",
            "Any team",
            "How much do we spend outside production?",
            ("environment",),
            environment_split,
            {
                **_BASE,
                "product_id": "dev_copilot",
                "feature_id": "code_complete",
                "environment": "development",
            },
            _env_answer,
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
