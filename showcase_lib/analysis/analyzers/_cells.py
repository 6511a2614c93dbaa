"""Price sums of calls on a price table without pricing every call (issue 14).

On a price table a call's cost is linear in its token counts once three things are fixed: the
model, the service tier and which side of every long-context threshold its prompt falls. Calls
that share a group (e.g. task type x model), a tier and a threshold bracket form a **cell**; the
cost of a cell is its call count x the cost of one call with the cell's mean tokens (the mean of
prompts inside a bracket stays inside it), so right-sizing prices a few hundred cells per
candidate model instead of every call. A pricer (any callable) is not linear in general: the
analyzers price per call then.

Example:
    >>> import numpy as np, pandas as pd
    >>> prices = pd.DataFrame({"provider": ["a"], "model": ["m"], "input_usd_per_mtok": [1.0],
    ...     "output_usd_per_mtok": [5.0], "long_context_threshold_tokens": [1000.0],
    ...     "long_context_input_usd_per_mtok": [2.0]})
    >>> tokens = {"input_tokens": np.array([500.0, 700.0, 2000.0]), "output_tokens": np.zeros(3)}
    >>> c = cells(np.zeros(3, dtype=np.int64), 1, tokens, prices)
    >>> c.count.tolist()
    [2, 1]
    >>> float(group_cost(c, prices, np.array(["a"]), np.array(["m"])).sum())  # 1200x1 + 2000x2
    0.0052
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from showcase_lib.analysis._prices import table_cost

from ._keys import str_codes


@dataclass(frozen=True, slots=True)
class Cells:
    """Calls summed by (group, service tier, long-context bracket)."""

    group: np.ndarray  # per cell: its group
    count: np.ndarray  # per cell: calls
    mean: pd.DataFrame  # per cell: mean tokens of each kind, and the tier


def _thresholds(prices: pd.DataFrame) -> np.ndarray:
    if "long_context_threshold_tokens" not in prices:
        return np.zeros(0)
    t = prices["long_context_threshold_tokens"].to_numpy(dtype=float)
    return np.unique(t[np.isfinite(t)])


def cells(
    group: np.ndarray,
    n_groups: int,
    tokens: Mapping[str, np.ndarray],
    prices: pd.DataFrame,
    tier: pd.Series | None = None,
) -> Cells:
    """Sum ``tokens`` (name -> per-call array; ``input_tokens`` required) into cells.

    ``tier`` is the calls' ``service_tier`` (or None). One pass per token column (bincount).
    """
    tin = np.asarray(tokens["input_tokens"], dtype=float)
    bracket = np.searchsorted(_thresholds(prices), tin, side="left")  # thresholds below tin
    n_br = int(bracket.max()) + 1 if len(tin) else 1
    if tier is not None:
        t_codes, t_labels = str_codes(tier)
    else:
        t_codes, t_labels = np.zeros(len(tin), dtype=np.int64), np.asarray(["standard"])
    n_t = len(t_labels)
    key = (group.astype(np.int64) * n_t + t_codes) * n_br + bracket
    space = max(n_groups, 1) * n_t * n_br
    count = np.bincount(key, minlength=space)
    used = np.flatnonzero(count)
    n = count[used]
    mean = {k: np.bincount(key, weights=v, minlength=space)[used] / n for k, v in tokens.items()}
    frame = pd.DataFrame(mean)
    if tier is not None:
        frame["service_tier"] = t_labels[(used // n_br) % n_t]
    return Cells(group=used // (n_br * n_t), count=n, mean=frame)


def group_cost(
    c: Cells, prices: pd.DataFrame, provider: np.ndarray, model: np.ndarray
) -> np.ndarray:
    """Cost per group with group ``g``'s calls on ``provider[g]``, ``model[g]``.

    ``provider``/``model`` have one entry per group; the result too (groups with no calls: 0).
    """
    frame = c.mean.assign(provider=provider[c.group], model=model[c.group])
    usd = table_cost(frame, prices).to_numpy() * c.count
    return np.bincount(c.group, weights=usd, minlength=len(provider))


def group_costs(
    c: Cells, prices: pd.DataFrame, models: list[tuple[np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """:func:`group_cost` for several model choices in one pricing pass (one table lookup).

    Example:
        >>> prices = pd.DataFrame({"provider": ["a", "a"], "model": ["m", "n"],
        ...     "input_usd_per_mtok": [1.0, 2.0], "output_usd_per_mtok": [1.0, 2.0]})
        >>> c = cells(np.zeros(2, dtype=np.int64), 1, {"input_tokens": np.array([1e6, 1e6])}, prices)
        >>> [x.tolist() for x in group_costs(c, prices, [(np.array(["a"]), np.array(["m"])),
        ...                                              (np.array(["a"]), np.array(["n"]))])]
        [[2.0], [4.0]]
    """
    if not models:
        return []
    frame = pd.concat(
        [c.mean.assign(provider=p[c.group], model=m[c.group]) for p, m in models],
        ignore_index=True,
    )
    usd = table_cost(frame, prices).to_numpy().reshape(len(models), len(c.count)) * c.count
    n = len(models[0][0])
    return [np.bincount(c.group, weights=row, minlength=n) for row in usd]
