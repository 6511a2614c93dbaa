"""Seeded, vectorised simulation of AI-call traffic in the record schema.

``simulate(scenario, *, days, customers, seed)`` returns a :class:`Simulation`: the calls, the
ground truth of what the scenario injected (``.incidents``) and the customers. The traffic
model (customers, rhythms, model profiles, tokens, latency) sits in private modules.

Example:
    >>> from showcase_lib.simulation import SCENARIOS, simulate
    >>> SCENARIOS[0]
    'steady_growth'
    >>> sim = simulate("steady_growth", days=2, customers=5, seed=0)
    >>> list(sim.calls.columns[:3])
    ['timestamp', 'call_id', 'provider']
"""

from ._core import Simulation, simulate
from ._scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Simulation", "simulate"]
