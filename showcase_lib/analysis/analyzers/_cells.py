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


# --------------------------------------------------------------------------- raw cells
#: Calls keyed and summed per slice: their key and tokens (2 MB each) are converted and summed
#: while still in cache, a fifth faster than column by column.
_CHUNK = 1 << 18
#: Largest raw cell space summed in slices (beyond it, adding the slices' results costs more).
_CHUNKED_SPACE = 1 << 16


def digits(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) with ``labels[codes] == values.astype(str)``, codes in ``-1..len-2``
    (a categorical column's own codes, read without a pass; -1, missing, is ``labels[-1]``).
    Labels may repeat or be unused: callers merge them on the (small) tables.

    Example:
        >>> codes, labels = digits(pd.Series(["b", None, "a"], dtype="category"))
        >>> labels[codes].tolist()
        ['b', 'nan', 'a']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in values.cat.categories]
        return values.cat.codes.to_numpy(), np.asarray([*cats, "nan"], dtype=object)
    codes, labels = str_codes(values)
    return codes, np.asarray([*labels, "nan"], dtype=object)


@dataclass(frozen=True, slots=True)
class RawKey:
    """Per call, one integer packing the codes of some text columns (most significant first)
    and the long-context bracket of its prompt (the last digit): a raw cell.

    Digit ``d`` of column ``i`` is its code + 1 (so a missing value, code -1, is digit 0) and
    reads ``labels[i][d - 1]``.
    """

    key: np.ndarray  # per call (intp)
    sizes: tuple[int, ...]  # per column: its digits (labels), then the brackets
    labels: tuple[np.ndarray, ...]
    thresholds: np.ndarray  # the price table's long-context thresholds, sorted
    count: np.ndarray  # per raw cell: calls
    sums: dict[str, np.ndarray]  # per raw cell: the sum of each token column asked for

    @property
    def space(self) -> int:
        """Number of raw cells."""
        return int(np.prod(self.sizes))

    def decode(self, cells: np.ndarray) -> list[np.ndarray]:
        """Per column, the label of each raw cell; last, its bracket (an int)."""
        out, rest = [], np.asarray(cells, dtype=np.int64)
        for size in reversed(self.sizes):
            out.append(rest % size)
            rest = rest // size
        out.reverse()
        text = [lab[d - 1] for lab, d in zip(self.labels, out[:-1], strict=True)]
        return [*text, out[-1]]


def brackets(thresholds: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Thresholds strictly below each prompt (``searchsorted(side="left")``, as :func:`cells`).

    Example:
        >>> brackets(np.array([10.0, 20.0]), np.array([5, 10, 11, 25])).tolist()
        [0, 0, 1, 2]
    """
    return np.searchsorted(thresholds, np.asarray(tokens, dtype=float), side="left")


def raw_key(
    columns: list[pd.Series],
    tin: np.ndarray,
    prices: pd.DataFrame,
    tokens: Mapping[str, np.ndarray] | None = None,
) -> RawKey | None:
    """The raw cell of every call (``tin``: its input tokens, integers), the calls per cell
    and the sums of ``tokens`` (name -> integers per call) per cell, in one pass by slices;
    None when the cells would not fit in 31 bits (then price by :func:`cells`).

    Example:
        >>> prices = pd.DataFrame({"long_context_threshold_tokens": [100.0]})
        >>> k = raw_key([pd.Series(["x", "y", "x"], dtype="category")], np.array([5, 500, 5]),
        ...             prices, {"output_tokens": np.array([1, 2, 3])})
        >>> k.key.tolist(), k.sizes, k.count.tolist(), k.sums["output_tokens"].tolist()
        ([2, 5, 2], (3, 2), [0, 0, 2, 0, 0, 1], [0.0, 0.0, 4.0, 0.0, 0.0, 2.0])
        >>> [d.tolist() for d in k.decode(k.key)]
        [['x', 'y', 'x'], [0, 1, 0]]
    """
    thresholds = _thresholds(prices)
    coded = [digits(c) for c in columns]
    sizes = (*(len(lab) for _, lab in coded), len(thresholds) + 1)
    space = int(np.prod(sizes, dtype=float))
    if space >= 1 << 31:
        return None
    small = np.int16 if space < 1 << 15 else np.int32  # narrow arithmetic: half the traffic
    offset = 0
    for size in sizes[:-1]:
        offset = offset * size + 1  # code + 1 is the digit
    tokens = dict(tokens or {})
    sliced = space <= _CHUNKED_SPACE
    key = np.empty(len(tin), dtype=np.intp)
    count = np.zeros(space, dtype=np.int64)
    sums = {name: np.zeros(space) for name in tokens}
    for lo in range(0, len(tin), _CHUNK):
        part = slice(lo, lo + _CHUNK)
        packed = coded[0][0][part].astype(small)
        for (codes, _), size in zip(coded[1:], sizes[1:-1], strict=True):
            packed *= size
            packed += codes[part]
        packed += offset
        cells = np.multiply(packed, sizes[-1], out=key[part], dtype=np.intp)
        if len(thresholds):
            long = np.flatnonzero(tin[part] > thresholds[0])  # a few calls have a long prompt
            cells[long] += brackets(thresholds, tin[part][long])
        if sliced:
            count += np.bincount(cells, minlength=space)
            for name, values in tokens.items():
                sums[name] += np.bincount(cells, weights=values[part], minlength=space)
    if not sliced:
        count = np.bincount(key, minlength=space)
        sums = {name: np.bincount(key, weights=v, minlength=space) for name, v in tokens.items()}
    return RawKey(key, sizes, tuple(lab for _, lab in coded), thresholds, count, sums)


def assemble(
    group: np.ndarray,
    n_groups: int,
    tier: tuple[np.ndarray, np.ndarray] | None,
    bracket: np.ndarray,
    sums: Mapping[str, np.ndarray],
) -> Cells:
    """:func:`cells` of sums already made per raw cell: ``group``, ``tier`` (codes into sorted
    distinct labels, and the labels) and ``bracket`` give each raw cell's place, ``sums`` its
    ``count`` and token sums. The same cells, in the same order, as from the calls.

    Example:
        >>> c = assemble(np.array([1, 0, 1]), 2, None, np.array([0, 0, 0]),
        ...              {"count": np.array([1.0, 2.0, 3.0]), "input_tokens": np.array([4.0, 2.0, 8.0])})
        >>> c.group.tolist(), c.count.tolist(), c.mean["input_tokens"].tolist()
        ([0, 1], [2, 4], [1.0, 3.0])
    """
    t_codes, t_labels = tier if tier is not None else (np.zeros(len(group), dtype=np.int64), None)
    n_t = len(t_labels) if t_labels is not None else 1
    n_br = int(bracket.max()) + 1 if len(bracket) else 1
    key = (group.astype(np.int64) * n_t + t_codes) * n_br + bracket
    space = max(n_groups, 1) * n_t * n_br
    count = np.bincount(key, weights=sums["count"], minlength=space)
    used = np.flatnonzero(count)
    n = count[used].astype(np.int64)
    frame = pd.DataFrame(
        {
            k: np.bincount(key, weights=v, minlength=space)[used] / n
            for k, v in sums.items()
            if k != "count"
        }
    )
    if t_labels is not None:
        frame["service_tier"] = t_labels[(used // n_br) % n_t]
    return Cells(group=used // (n_br * n_t), count=n, mean=frame)
