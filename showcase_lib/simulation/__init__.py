"""Seeded, vectorised simulation of AI-call traffic in the record schema.

``simulate(scenario, *, days, customers, seed)`` returns a :class:`Simulation`: the calls, the
ground truth of what the scenario injected (``.incidents``: kind, driver, customer_id,
feature_id, when, effect as injected and as observed) and the customers. The default traffic is
the 2026 fleet of genai-prices with the full token taxonomy (prompt-cache reads and writes,
reasoning tokens, the batch tier, long-context calls), priced at each call's timestamp, from
2026-07-13 (``fleet="2024"`` is the book's original fleet). The traffic model (customers,
rhythms, model profiles, tokens, cache, reasoning, latency) sits in private modules.

Example:
    >>> from showcase_lib.simulation import SCENARIOS, simulate
    >>> SCENARIOS[0]
    'steady_growth'
    >>> sim = simulate("steady_growth", days=2, customers=5, seed=0)
    >>> list(sim.calls.columns[:3])
    ['timestamp', 'call_id', 'provider']
    >>> SCENARIOS[-1]
    'incidents_2026'
"""

from ._core import Simulation, simulate
from ._scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Simulation", "simulate"]
