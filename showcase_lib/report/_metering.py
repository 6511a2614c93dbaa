"""Charts of Part A (instrumentation): circuit state and backlog over time, latency bars.

All charts use the house style of :mod:`showcase_lib.report.charts`.

Example:
    >>> import pandas as pd
    >>> tl = pd.DataFrame({"t_s": [0.0, 0.1, 0.2], "state": ["closed", "open", "closed"],
    ...                    "queue": [0, 5, 0], "in_flight": [1, 0, 1],
    ...                    "spool_backlog": [0, 10, 0], "delivered": [0, 1, 12]})
    >>> axes = state_and_backlog(tl)
    >>> axes[0].get_title(loc="left")
    'Circuit breaker state'
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from showcase_lib.report import charts

__all__ = ["delays_chart", "latency_bars", "state_and_backlog"]

_STATE_LEVEL = {"closed": 0, "half_open": 1, "open": 2}


def state_and_backlog(
    timeline: pd.DataFrame,
    *,
    marks: Sequence[tuple[float, str]] = (),
    transitions: pd.DataFrame | None = None,
    title: str = "Circuit breaker state",
) -> list[Axes]:
    """Two stacked panels from ``Tracker.timeline()``: breaker state, then backlog and deliveries
    (``timeline`` columns ``t_s, state, queue, in_flight, spool_backlog, delivered``).

    ``marks`` are (time in seconds, label) pairs drawn as vertical lines on both panels
    (an outage start, an emulator restart...). With ``transitions`` (``Tracker.transitions()``)
    the state line is drawn from the exact transition times, so millisecond-long half-open
    probes show; otherwise from the samples.

    Example:
        >>> tl = pd.DataFrame({"t_s": [0.0, 0.1], "state": ["closed", "open"], "queue": [0, 5],
        ...                    "in_flight": [1, 0], "spool_backlog": [0, 10], "delivered": [0, 1]})
        >>> state_and_backlog(tl)[0].get_title(loc="left")
        'Circuit breaker state'
    """
    charts._apply_style()
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(7.2, 5.6), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    t = timeline["t_s"]
    level = timeline["state"].map(_STATE_LEVEL)
    if transitions is not None and len(transitions) and transitions["t_s"].notna().all():
        end = float(t.max()) if len(t) else float(transitions["t_s"].max())
        ts = [0.0, *transitions["t_s"].tolist(), end]
        states = ["closed", *transitions["to_state"].tolist()]
        st_t = [x for x in ts for _ in (0, 1)][1:-1]
        st_v = [_STATE_LEVEL[s] for s in states for _ in (0, 1)]
        ax1.plot(st_t, st_v, color=charts.COLORS.accent, linewidth=1.4)
    else:
        ax1.step(t, level, where="post", color=charts.COLORS.accent, linewidth=1.8)
    charts._new_axes(title, "", "State", ax=ax1)
    ax1.set_yticks([0, 1, 2], ["closed", "half-open", "open"])
    ax1.set_ylim(-0.3, 2.3)
    charts._new_axes(
        "Backlog and deliveries", "Time since the tracker started (s)", "Records", ax=ax2
    )
    ax2.plot(
        t,
        timeline["queue"] + timeline["in_flight"],
        label="queued + in flight",
        color=charts.COLORS.palette[0],
    )
    ax2.plot(t, timeline["spool_backlog"], label="spool backlog", color=charts.COLORS.accent)
    ax2b = ax2.twinx()
    ax2b.plot(
        t,
        timeline["delivered"],
        label="delivered (cumulative)",
        color=charts.COLORS.good,
        linestyle="--",
    )
    ax2b.set_ylabel("Delivered (cumulative records)")
    ax2b.grid(False)
    for x, label in marks:
        for ax in (ax1, ax2):
            ax.axvline(x, color=charts.COLORS.muted, linestyle=":", linewidth=1.2)
        ax1.annotate(
            label, (x, 2.25), xytext=(3, 0), textcoords="offset points", fontsize=10, va="top"
        )
    lines = [ln for ln in ax2.get_lines() + ax2b.get_lines() if not ln.get_label().startswith("_")]
    ax2.legend(lines, [ln.get_label() for ln in lines], loc="upper left")
    fig.tight_layout()
    return [ax1, ax2, ax2b]


def latency_bars(
    table: pd.DataFrame,
    *,
    title: str = "What metering adds to each AI call",
    columns: Sequence[str] = ("p50_us", "p99_us"),
) -> Axes:
    """Grouped horizontal bars (log scale, microseconds) of a ``latency_table``.

    Example:
        >>> t = pd.DataFrame({"p50_us": [2.0, 40.0], "p99_us": [5.0, 90.0]}, index=["a", "b"])
        >>> latency_bars(t).get_xscale()
        'log'
    """
    ax = charts._new_axes(title, "Time added per AI call (microseconds, log scale)", "")
    ax.figure.set_size_inches(6.4, 1.2 + 0.9 * len(table))  # a few rows of bars
    n = len(columns)
    height = 0.8 / n
    labels = list(table.index)
    for i, col in enumerate(columns):
        ys = [k + (i - (n - 1) / 2) * height for k in range(len(labels))]
        ax.barh(
            ys, table[col], height=height, label=col.replace("_us", ""), color=charts.PALETTE[i]
        )
        for y, v in zip(ys, table[col], strict=True):
            ax.annotate(
                f"{v:,.1f} µs",
                (v, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=10,
            )
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xscale("log")
    charts._room_for_labels(ax, horizontal=True, share=0.3)  # the labels end inside the axes
    ax.grid(axis="y", visible=False)
    # the legend sits above the bars, never over a bar's label (it covered "1,984.4 µs" in 01)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=n, borderaxespad=0.2)
    ax.set_title(title, pad=28)
    return ax


def delays_chart(delays: pd.DataFrame, *, title: str = "Wait before each retry") -> Axes:
    """Lines of retry waits by attempt (one column per strategy), in seconds.

    Example:
        >>> d = pd.DataFrame({"exponential": [0.5, 1.0, 2.0]}, index=[1, 2, 3])
        >>> delays_chart(d).get_ylabel()
        'Wait (s)'
    """
    ax = charts.line(
        delays, title=title, ylabel="Wait (s)", xlabel="Retry number", marker="o", ms=4
    )
    return ax
