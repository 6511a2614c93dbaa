"""The simulated customer base: archetypes, tiers and fees, organizations, products, features.

Everything here is small (one row per customer, product or feature); the per-call work lives in
``traffic``. Tables are plain tuples so a notebook can print them.

Example:
    >>> import numpy as np
    >>> c = make_customers(np.random.default_rng(0), 8)
    >>> list(c.columns[:4])
    ['customer_id', 'organization_id', 'archetype', 'subscription_tier']
    >>> c["customer_id"].iloc[0]
    'cust_0001'
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from showcase_lib.schema import SUBSCRIPTION_TIERS

__all__ = [
    "ARCHETYPES",
    "FEATURES",
    "MONTHLY_FEE_USD",
    "PRODUCTS",
    "REGIONS",
    "TASK_TYPES",
    "USER_AGENTS",
    "make_customers",
]

#: Usage archetypes: (name, share of customers, median requests per day, end users per customer).
ARCHETYPES: Final[tuple[tuple[str, float, float, int], ...]] = (
    ("light", 0.60, 8.0, 5),
    ("power", 0.30, 45.0, 30),
    ("heavy", 0.10, 200.0, 120),
)

#: P(tier | archetype), rows in ARCHETYPES order, columns in SUBSCRIPTION_TIERS order.
_TIER_GIVEN_ARCHETYPE: Final[np.ndarray] = np.array(
    [[0.70, 0.25, 0.05], [0.20, 0.60, 0.20], [0.05, 0.35, 0.60]]
)

#: Flat monthly subscription fee per tier (USD), the revenue side of Part D.
MONTHLY_FEE_USD: Final[dict[str, float]] = {"starter": 29.0, "pro": 149.0, "enterprise": 999.0}

TASK_TYPES: Final[tuple[str, ...]] = (
    "chat",
    "summarization",
    "code_generation",
    "classification",
    "extraction",
    "translation",
    "rag_qa",
    "agent_step",
)

#: product -> (feature, task type, share of the product's requests)
PRODUCTS: Final[dict[str, tuple[tuple[str, str, float], ...]]] = {
    "support_desk": (
        ("chat_widget", "chat", 0.35),
        ("ticket_triage", "classification", 0.25),
        ("kb_answer", "rag_qa", 0.30),
        ("reply_translate", "translation", 0.10),
    ),
    "doc_studio": (
        ("doc_summary", "summarization", 0.40),
        ("contract_extract", "extraction", 0.30),
        ("doc_translate", "translation", 0.15),
        ("doc_chat", "chat", 0.15),
    ),
    "dev_copilot": (
        ("code_complete", "code_generation", 0.45),
        ("code_review", "code_generation", 0.15),
        ("pr_agent", "agent_step", 0.25),
        ("repo_qa", "rag_qa", 0.15),
    ),
    "data_insights": (
        ("report_summary", "summarization", 0.25),
        ("sql_agent", "agent_step", 0.30),
        ("data_extract", "extraction", 0.25),
        ("insight_chat", "chat", 0.20),
    ),
}
#: Share of customers per product, in PRODUCTS order: one flagship, three smaller lines.
_PRODUCT_SHARE: Final[tuple[float, ...]] = (0.30, 0.25, 0.25, 0.20)

#: Flat feature list: (feature_id, product_id, task_type).
FEATURES: Final[tuple[tuple[str, str, str], ...]] = tuple(
    (f, p, t) for p, feats in PRODUCTS.items() for f, t, _ in feats
)

#: Region and its UTC offset in hours (drives the hour-of-day rhythm).
REGIONS: Final[tuple[tuple[str, int, float], ...]] = (
    ("us-east-1", -5, 0.45),
    ("us-west-2", -8, 0.15),
    ("eu-west-1", 0, 0.28),
    ("ap-southeast-1", 8, 0.12),
)

USER_AGENTS: Final[tuple[str, ...]] = (
    "web_app_v1.2",
    "web_app_v1.3",
    "ios_app_v3.4",
    "android_app_v3.1",
    "python_sdk_v1.8",
    "node_sdk_v2.0",
    "slack_bot_v0.9",
    "batch_worker_v2.1",
)


def _id_width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))


def make_customers(
    rng: np.random.Generator, n_customers: int, *, new_customer_share: float = 0.0, days: int = 30
) -> pd.DataFrame:
    """Draw the customer table (one row per customer).

    Columns: customer_id, organization_id, archetype, subscription_tier, monthly_fee_usd,
    product_id, region, utc_offset_h, user_agent (primary), end_users, requests_per_day
    (median-day rate before rhythm and scenario effects), signup_day (0 unless the customer joins
    during the simulated period).

    Example:
        >>> import numpy as np
        >>> bool(make_customers(np.random.default_rng(1), 20)["subscription_tier"].isin(
        ...     ["starter", "pro", "enterprise"]).all())
        True
    """
    if n_customers < 1:
        raise ValueError(f"customers={n_customers!r} must be at least 1")
    n = n_customers
    arch_share = np.array([a[1] for a in ARCHETYPES])
    arch = rng.choice(len(ARCHETYPES), size=n, p=arch_share)
    u = rng.random(n)
    tier = (u[:, None] > _TIER_GIVEN_ARCHETYPE[arch].cumsum(axis=1)[:, :-1]).sum(axis=1)
    n_orgs = max(1, round(n / 3.5))
    org = np.concatenate([rng.permutation(n_orgs)[: min(n, n_orgs)], rng.integers(0, n_orgs, n)])[
        :n
    ]
    org = rng.permutation(org)
    product = rng.choice(len(PRODUCTS), size=n, p=np.array(_PRODUCT_SHARE))
    region = rng.choice(len(REGIONS), size=n, p=np.array([r[2] for r in REGIONS]))
    ua = rng.integers(0, len(USER_AGENTS), n)
    median_rate = np.array([a[2] for a in ARCHETYPES])[arch]
    rate = median_rate * rng.lognormal(0.0, 0.5, n)
    end_users = np.array([a[3] for a in ARCHETYPES])[arch]
    signup = np.zeros(n, dtype=np.int64)
    if new_customer_share > 0 and days > 1:
        joins = rng.random(n) < new_customer_share
        signup[joins] = rng.integers(1, days, int(joins.sum()))

    cw, ow = _id_width(n, 4), _id_width(n_orgs, 3)
    tiers = np.array(SUBSCRIPTION_TIERS)[tier]
    return pd.DataFrame(
        {
            "customer_id": [f"cust_{i + 1:0{cw}d}" for i in range(n)],
            "organization_id": [f"org_{o + 1:0{ow}d}" for o in org],
            "archetype": np.array([a[0] for a in ARCHETYPES])[arch],
            "subscription_tier": tiers,
            "monthly_fee_usd": np.array([MONTHLY_FEE_USD[t] for t in tiers], dtype=float),
            "product_id": np.array(list(PRODUCTS))[product],
            "region": np.array([r[0] for r in REGIONS])[region],
            "utc_offset_h": np.array([r[1] for r in REGIONS])[region],
            "user_agent": np.array(USER_AGENTS)[ua],
            "end_users": end_users,
            "requests_per_day": rate,
            "signup_day": signup,
        }
    )
