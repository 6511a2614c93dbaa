"""Part D scenario computations (notebooks 11-13): model comparison, viral spike, pricing.

Each takes records and parameters a reader can know (prices as a price table frame, the
customer and onset of a spike), never a simulation's ground truth. Each returns an analyzer
result (tables, headline metrics, a before/after comparison and a story for the report
cards); its fields are listed on the function.

Example:
    >>> ModelComparisonConfig().candidate
    ('anthropic', 'claude-instant-1.2')
"""

from ._scenarios import (
    ModelComparisonConfig,
    SpikeResponseConfig,
    StreamConfig,
    model_comparison,
    pricing_strategy,
    viral_spike_response,
)

__all__ = [
    "ModelComparisonConfig",
    "SpikeResponseConfig",
    "StreamConfig",
    "model_comparison",
    "pricing_strategy",
    "viral_spike_response",
]
