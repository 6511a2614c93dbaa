"""Part D scenario computations (notebooks 11-13): model comparison, viral spike, pricing.

Each takes records and parameters a reader can know (prices as a price table frame, the
customer and onset of a spike), never a simulation's ground truth.

Example:
    >>> ModelComparisonConfig().candidate
    ('anthropic', 'claude-instant-1.2')
"""

from ._scenarios import (
    ABTestConfig,
    ModelComparisonConfig,
    SpikeResponseConfig,
    StreamConfig,
    ab_test_quality,
    model_comparison,
    pricing_strategy,
    viral_spike_response,
)

__all__ = [
    "ABTestConfig",
    "ModelComparisonConfig",
    "SpikeResponseConfig",
    "StreamConfig",
    "ab_test_quality",
    "model_comparison",
    "pricing_strategy",
    "viral_spike_response",
]
