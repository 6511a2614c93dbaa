"""Part D scenario computations (notebooks 11-13): model comparison and cost levers, viral
spike, pricing.

Each takes records and parameters a reader can know (prices as a price table frame, the
customer and onset of a spike), never a simulation's ground truth. Prices are a price table
frame or a pricer (calls -> cost per call, e.g. ``lambda df: pricing.cost_breakdown(df)["total"]``):
every counterfactual is a modified copy of the calls priced by it. Each returns an analyzer
result (tables, headline metrics, a before/after comparison and a story for the report
cards); its fields are listed on the function.

Example:
    >>> ModelComparisonConfig().candidate
    ('anthropic', 'claude-instant-1.2')
"""

from ._scenarios import (
    LeverConfig,
    ModelComparisonConfig,
    SpikeResponseConfig,
    StreamConfig,
    cost_levers,
    model_comparison,
    pricing_strategy,
    viral_spike_response,
)

__all__ = [
    "LeverConfig",
    "ModelComparisonConfig",
    "SpikeResponseConfig",
    "StreamConfig",
    "cost_levers",
    "model_comparison",
    "pricing_strategy",
    "viral_spike_response",
]
