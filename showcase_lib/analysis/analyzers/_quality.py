"""SIMULATED quality scores per model and task complexity (an illustrative table, not a benchmark).

The book has no real model outputs to grade, so quality-aware analyses (efficiency ranking,
right-sizing, the A/B test of notebook 11) use this documented table instead. Scores are on a
0-100 scale ("share of responses a reviewer accepts") and were **chosen by hand** to follow the
public ordering of the models (frontier > mid > small) and the common observation that small
models hold up on simple tasks and fall behind on complex ones. They are assumptions: replace
them with your own evaluation scores (e.g. Revenium's ``responseQualityScore`` field) before
deciding anything.

Example:
    >>> quality_score("gpt-4", "simple") > quality_score("gpt-4", "complex")
    True
    >>> task_complexity("classification")
    'simple'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

#: Label printed next to every number derived from the table.
SIMULATED_LABEL: Final[str] = "simulated quality score (illustrative table, not a benchmark)"

COMPLEXITIES: Final[tuple[str, ...]] = ("simple", "moderate", "complex")

#: Task type -> complexity. Unknown task types count as "moderate".
TASK_COMPLEXITY: Final[dict[str, str]] = {
    "classification": "simple",
    "extraction": "simple",
    "sentiment": "simple",
    "sentiment_analysis": "simple",
    "translation": "simple",
    "moderation": "simple",
    "tagging": "simple",
    "routing": "simple",
    "embedding": "simple",
    "summarization": "simple",
    "autocomplete": "simple",
    "faq": "simple",
    "chat": "moderate",
    "qa": "moderate",
    "question_answering": "moderate",
    "search": "moderate",
    "rag": "moderate",
    "rag_qa": "moderate",
    "support": "moderate",
    "content_generation": "moderate",
    "writing": "moderate",
    "code_generation": "complex",
    "code_review": "complex",
    "reasoning": "complex",
    "analysis": "complex",
    "data_analysis": "complex",
    "agent": "complex",
    "agent_step": "complex",
    "planning": "complex",
    "research": "complex",
}

#: Model -> simulated quality (simple, moderate, complex). Hand-chosen, see the module docstring.
QUALITY_TABLE: Final[dict[str, tuple[float, float, float]]] = {
    "gpt-4": (95.0, 91.0, 88.0),
    "gpt-4-turbo": (95.0, 92.0, 89.0),
    "gpt-4o": (95.0, 92.0, 89.0),
    "gpt-4o-mini": (93.0, 85.0, 74.0),
    "gpt-3.5-turbo": (90.0, 79.0, 64.0),
    "claude-sonnet-4": (96.0, 94.0, 92.0),
    "claude-3-5-sonnet": (95.0, 93.0, 90.0),
    "claude-3-5-haiku": (93.0, 86.0, 76.0),
    "claude-3-haiku": (92.0, 83.0, 70.0),
    "claude-instant-1.2": (92.0, 78.0, 62.0),
    "gemini-1.5-pro": (94.0, 90.0, 86.0),
    "gemini-1.5-flash": (92.0, 84.0, 72.0),
    "gemini-2.0-flash": (93.0, 87.0, 77.0),
    "mistral-large": (93.0, 88.0, 83.0),
    "mistral-small": (90.0, 80.0, 66.0),
    "command-r": (89.0, 79.0, 63.0),
    "command-r-plus": (92.0, 85.0, 76.0),
    "amazon.nova-lite": (90.0, 80.0, 66.0),
    "meta.llama3-1-70b-instruct": (92.0, 85.0, 77.0),
    # the 2026 fleet: frontier > mid > small per provider, the reasoning model strongest on
    # complex tasks (same rules, same caveat: illustrative, not a benchmark)
    "gpt-5.5": (97.0, 95.0, 94.0),
    "gpt-5.6-luna": (96.0, 92.0, 88.0),
    "gpt-5.4-nano": (93.0, 85.0, 75.0),
    "o3": (96.0, 94.0, 95.0),
    "claude-opus-5": (97.0, 96.0, 95.0),
    "claude-sonnet-5": (96.0, 94.0, 92.0),
    "claude-haiku-4-5": (94.0, 88.0, 80.0),
    "gemini-3.1-pro-preview": (96.0, 94.0, 92.0),
    "gemini-3.5-flash": (95.0, 90.0, 85.0),
    "gemini-3.5-flash-lite": (93.0, 84.0, 74.0),
}

#: Used for a model missing from the table (flagged ``assumed`` in :func:`quality_table`).
DEFAULT_QUALITY: Final[tuple[float, float, float]] = (88.0, 78.0, 65.0)

#: Spread (standard deviation, points) of one call's simulated score around the table value.
CALL_SCORE_SD: Final[float] = 8.0


def task_complexity(task_type: str, mapping: Mapping[str, str] | None = None) -> str:
    """Complexity of a task type ("simple", "moderate" or "complex"; unknown -> "moderate").

    Example:
        >>> task_complexity("code_generation")
        'complex'
        >>> task_complexity("haiku_writing")
        'moderate'
    """
    table = TASK_COMPLEXITY if mapping is None else {**TASK_COMPLEXITY, **mapping}
    return table.get(str(task_type).strip().lower(), "moderate")


def _table_key(model: str) -> str:
    m = str(model)
    if m in QUALITY_TABLE:
        return m
    # cloud-hosted variants: "anthropic.claude-3-haiku" -> "claude-3-haiku"
    stripped = m.split(".", 1)[1] if m.startswith(("anthropic.", "openai.")) else m
    return stripped


def quality_score(model: str, complexity: str) -> float:
    """Simulated mean quality (0-100) of ``model`` on a task of ``complexity``.

    Example:
        >>> quality_score("claude-instant-1.2", "simple")
        92.0
    """
    if complexity not in COMPLEXITIES:
        raise ValueError(f"complexity={complexity!r} is not one of {', '.join(COMPLEXITIES)}")
    row = QUALITY_TABLE.get(_table_key(model), DEFAULT_QUALITY)
    return row[COMPLEXITIES.index(complexity)]


def quality_table(models: list[str] | None = None) -> pd.DataFrame:
    """The table as a DataFrame: model, simple, moderate, complex, assumed (not in the table).

    Example:
        >>> quality_table(["gpt-4"]).loc[0, "simple"]
        np.float64(95.0)
    """
    names = list(QUALITY_TABLE) if models is None else [str(m) for m in models]
    rows = [
        (m, *QUALITY_TABLE.get(_table_key(m), DEFAULT_QUALITY), _table_key(m) not in QUALITY_TABLE)
        for m in names
    ]
    return pd.DataFrame(rows, columns=["model", *COMPLEXITIES, "assumed"])


def expected_quality(models: pd.Series, complexities: pd.Series) -> pd.Series:
    """Vectorised simulated mean quality for aligned model/complexity Series.

    Example:
        >>> expected_quality(pd.Series(["gpt-4"]), pd.Series(["simple"])).tolist()
        [95.0]
    """
    table = quality_table(sorted(set(map(str, models.unique()))))
    long = table.melt(
        id_vars="model", value_vars=list(COMPLEXITIES), var_name="complexity", value_name="quality"
    )
    key = pd.MultiIndex.from_arrays(
        [models.astype(str).to_numpy(), complexities.astype(str).to_numpy()]
    )
    lookup = long.set_index(["model", "complexity"])["quality"]
    return pd.Series(lookup.reindex(key).to_numpy(), index=models.index, name="quality")


def sample_scores(
    mean: float | np.ndarray,
    n: int | None = None,
    *,
    rng: np.random.Generator,
    sd: float = CALL_SCORE_SD,
) -> np.ndarray:
    """Draw per-call simulated scores around ``mean`` (normal, clipped to 0-100).

    Example:
        >>> s = sample_scores(90.0, 1000, rng=np.random.default_rng(0))
        >>> bool(88 < s.mean() < 92)
        True
    """
    size = n if n is not None else np.shape(mean)
    return np.clip(rng.normal(mean, sd, size=size), 0.0, 100.0)
