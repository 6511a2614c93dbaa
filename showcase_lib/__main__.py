"""Command line of the showcase library.

    python -m showcase_lib report --scenario viral_spike --out reports/ [--days 30
        --customers 100 --seed 0]

writes one self-contained HTML report per analyzer (eight files) plus ``index.html``.

Example:
    >>> parser = build_parser()
    >>> parser.parse_args(["report", "--scenario", "seasonal", "--out", "x"]).days
    30
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

#: Detail table shown in each analyzer's Results card.
KEY_TABLES: dict[str, tuple[str, ...]] = {
    "understanding": ("unit_costs", "by_customer_id"),
    "performance": ("sla", "efficiency"),
    "realtime": ("anomalies", "budgets"),
    "optimization": ("opportunities", "right_sizing"),
    "alignment": ("chargeback_organization_id",),
    "profitability": ("by_band", "by_customer"),
    "pricing": ("parameters", "summary"),
    "features": ("by_feature",),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``report`` sub-command).

    Example:
        >>> build_parser().prog
        'python -m showcase_lib'
    """
    from showcase_lib.simulation import SCENARIOS

    parser = argparse.ArgumentParser(
        prog="python -m showcase_lib", description="Revenium FinOps Showcase helper commands."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="write one HTML report per analyzer for a scenario")
    rep.add_argument("--scenario", required=True, choices=SCENARIOS)
    rep.add_argument("--out", required=True, type=Path, help="output folder (created)")
    rep.add_argument("--days", type=int, default=30)
    rep.add_argument("--customers", type=int, default=100)
    rep.add_argument("--seed", type=int, default=0)
    return parser


def write_reports(
    scenario: str, out: Path, *, days: int = 30, customers: int = 100, seed: int = 0
) -> list[Path]:
    """Simulate ``scenario``, run the eight analyzers, write their reports and an index.

    Returns the written paths (the eight reports, then ``index.html``).
    """
    import matplotlib

    matplotlib.use("Agg")
    from showcase_lib.analysis.analyzers import run_all
    from showcase_lib.report.cards import IndexEntry, ReportCards, format_value, write_index
    from showcase_lib.report.scenario_charts import chart_for, close_all
    from showcase_lib.simulation import simulate

    sim = simulate(scenario, days=days, customers=customers, seed=seed)
    results = run_all(sim.calls, sim.customers)
    source = (
        f"simulate({scenario!r}, days={days}, customers={customers}, seed={seed}): "
        f"{len(sim.calls):,} simulated calls"
    )
    out.mkdir(parents=True, exist_ok=True)
    written, entries = [], []
    for name, result in results.items():
        ax = chart_for(result)
        cards = ReportCards(
            result,
            charts=[ax] if ax is not None else [],
            tables=KEY_TABLES.get(name, ()),
            subtitle=f"Scenario {scenario}",
            source=source,
        )
        path = cards.write(out / f"{name}.html")
        close_all()
        written.append(path)
        head = result.headline[:2]
        entries.append(
            IndexEntry(
                path.name,
                result.title,
                "; ".join(f"{m.label}: {format_value(m.value, m.unit)}" for m in head),
            )
        )
    written.append(
        write_index(
            out / "index.html", entries, title=f"Analyzer reports: {scenario}", subtitle=source
        )
    )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "report":
        for name, value in (("days", args.days), ("customers", args.customers)):
            if value < 1:
                print(f"error: --{name}={value} must be at least 1", file=sys.stderr)
                return 2
        paths = write_reports(
            args.scenario, args.out, days=args.days, customers=args.customers, seed=args.seed
        )
        for p in paths:
            print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
