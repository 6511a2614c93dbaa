"""Seeded, vectorised simulation of AI-call traffic in the record schema.

Example:
    >>> from showcase_lib.simulation import SCENARIOS, simulate
    >>> SCENARIOS[0]
    'steady_growth'
    >>> sim = simulate("steady_growth", days=2, customers=5, seed=0)
    >>> list(sim.calls.columns[:3])
    ['timestamp', 'call_id', 'provider']
"""

from .core import INCIDENT_COLUMNS, Simulation, simulate
from .customers import ARCHETYPES, FEATURES, MONTHLY_FEE_USD, PRODUCTS, TASK_TYPES, make_customers
from .scenarios import SCENARIOS

__all__ = [
    "ARCHETYPES",
    "FEATURES",
    "INCIDENT_COLUMNS",
    "MONTHLY_FEE_USD",
    "PRODUCTS",
    "SCENARIOS",
    "TASK_TYPES",
    "Simulation",
    "make_customers",
    "simulate",
]
