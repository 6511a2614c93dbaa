"""The eight analyzers' outputs are frozen on a fixed-seed run (issue 14: faster, same answers).

``GOLDEN`` was computed on the implementation before the issue-14 rewrite (main 50a8c5f) from a
~50K-call ``incidents_2026`` run: one digest per analyzer and result field (headline, findings,
comparison, every table, parameters). A digest covers every value, in order, with floats at 8
significant digits (to the cent and better for any figure under $1M), the column names, the
dtypes and the index, so a faster implementation must return the same frames, not close ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from showcase_lib.analysis.analyzers import run_all
from showcase_lib.pricing import price_table
from showcase_lib.simulation import simulate


def _cell(v: object) -> str:
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.8g}"
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def _frame(df: pd.DataFrame) -> list[str]:
    parts = [repr(list(map(str, df.columns))), str(df.shape), repr([str(t) for t in df.dtypes])]
    parts.append(repr(df.index.names) + "|".join(map(_cell, df.index)))
    parts.extend("|".join(map(_cell, df[c].tolist())) for c in df.columns)
    return parts


def _flat(obj: object) -> list[str]:
    """Every value of a result field as text, frames included."""
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return _frame(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [p for f in dataclasses.fields(obj) for p in [f.name, *_flat(getattr(obj, f.name))]]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in [str(k), *_flat(v)]]
    if isinstance(obj, list | tuple):
        return [p for v in obj for p in _flat(v)]
    return [_cell(obj)]


def fingerprints(results: dict) -> dict[str, str]:
    """``analyzer.field`` -> 16-hex digest of that field's values."""
    out = {}
    for name, result in results.items():
        for f in dataclasses.fields(result):
            text = "\n".join(_flat(getattr(result, f.name)))
            out[f"{name}.{f.name}"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


def run_fixed() -> dict:
    sim = simulate("incidents_2026", days=30, customers=200, seed=14, calls_per_day=1700)
    return run_all(sim.calls, sim.customers, price_table())


GOLDEN: dict[str, str] = {
    "understanding.name": "04214cad51df8166",
    "understanding.title": "3b2a1eb2f4e78f17",
    "understanding.headline": "aa1bdca4f64936b0",
    "understanding.comparison": "1b02c4192e3065d5",
    "understanding.findings": "40746d9aaedbfb65",
    "understanding.tables": "f6ec716180d8034f",
    "understanding.revenium_value": "80d3beda8fe5319d",
    "understanding.story": "2eb999158ad6ba93",
    "understanding.parameters": "ecae3d70fa624ff9",
    "understanding.allocation": "552ef663bf9cd4d7",
    "understanding.unit_costs": "fde3f91a27c59764",
    "understanding.daily": "3c876d4e6b5a6be9",
    "understanding.forecast": "bd2e4e32c0311168",
    "performance.name": "4a1898716ef67796",
    "performance.title": "b26a812455a0a7c1",
    "performance.headline": "e7e86898ad3c9961",
    "performance.comparison": "34140b792ea38af7",
    "performance.findings": "44b38794f7376e5f",
    "performance.tables": "07414169aa2078ba",
    "performance.revenium_value": "87fe85c8a2605a48",
    "performance.story": "6e302e8730402326",
    "performance.parameters": "0082a9ca3cd7f8f1",
    "performance.latency": "e5f0b82acc1b38e8",
    "performance.sla": "f023dfcbd7258b13",
    "performance.efficiency": "17fcdad40e6b63f4",
    "realtime.name": "6091cb58f7fefea5",
    "realtime.title": "011b029599da2c1b",
    "realtime.headline": "47691899bf4fbc8c",
    "realtime.comparison": "d195519aeffbaf8d",
    "realtime.findings": "a21b54e6686cc4b9",
    "realtime.tables": "3bd63efd22a5eb3b",
    "realtime.revenium_value": "9aa24c1edcd5149a",
    "realtime.story": "22907b8e5f725fcd",
    "realtime.parameters": "3f7bc5a7ebdca92d",
    "realtime.anomalies": "91b2bd78f8ae8479",
    "realtime.budgets": "6093419bc1aadcba",
    "optimization.name": "be92e94aba0be148",
    "optimization.title": "e1a38ebaebe6f835",
    "optimization.headline": "3187a2dd9145bd20",
    "optimization.comparison": "e9f376599fae2a29",
    "optimization.findings": "4136c51d6e53a78b",
    "optimization.tables": "fad7d0991e8c221e",
    "optimization.revenium_value": "19b376ceeb12f6ae",
    "optimization.story": "f6929ebab520aa70",
    "optimization.parameters": "91cfb52feabe61aa",
    "optimization.right_sizing": "bee7a434a5d1ab75",
    "optimization.opportunities": "c8af2c98e2d04d88",
    "alignment.name": "47ccb97a79f5a2bf",
    "alignment.title": "1cf270e5fa9b9ff5",
    "alignment.headline": "b201e665fa75c190",
    "alignment.comparison": "df98c4c80806b9a6",
    "alignment.findings": "12d926c75a8bbe9f",
    "alignment.tables": "54a866759045e4f3",
    "alignment.revenium_value": "985090f3b97e2760",
    "alignment.story": "2468a29512907c7d",
    "alignment.parameters": "1a3760930bf0e79e",
    "alignment.chargebacks": "b2ba91adee12b021",
    "alignment.shared_usd": "6283e4f03c24b575",
    "profitability.name": "89939c5e8c9cd6e1",
    "profitability.title": "89636a5ddb4bf4c4",
    "profitability.headline": "54aa357b804b9f53",
    "profitability.comparison": "653c0c951bb07122",
    "profitability.findings": "b95e025a75c971dd",
    "profitability.tables": "e2ab566d92a34da1",
    "profitability.revenium_value": "47d9c3edb247aac9",
    "profitability.story": "ce6151bf71599cb8",
    "profitability.parameters": "6a4bca951204f15a",
    "profitability.by_customer": "0a99313d31b50e45",
    "profitability.by_band": "c1669e3dfbd8f073",
    "profitability.by_segment": "65a983c6369da3b8",
    "pricing.name": "1e2ea6d9b72e685b",
    "pricing.title": "73a23c967a8170c7",
    "pricing.headline": "46bd20a4eb997e1a",
    "pricing.comparison": "f569aab4f3bbb8cc",
    "pricing.findings": "bb4aeb1394aed17d",
    "pricing.tables": "b08b2fc3325b779a",
    "pricing.revenium_value": "3a5cf0f069e395ce",
    "pricing.story": "a6b8636e900cd2dc",
    "pricing.parameters": "cb88da6ab91f9313",
    "pricing.models": "a95bcde320e7fe1d",
    "pricing.usage": "0b43871482fff20c",
    "pricing.summary": "f6879da23ee7e6e4",
    "pricing.by_segment": "df9a3f2cc1116322",
    "pricing.customers": "cd9ffa956d6985f0",
    "pricing.baseline": "4cd4f886d80ff261",
    "features.name": "5b8a8b56dada6ce7",
    "features.title": "5c7e7eaa9c64d033",
    "features.headline": "56828af1f7740150",
    "features.comparison": "b6f3e379133b0a6a",
    "features.findings": "c9c5192cd1ee99b2",
    "features.tables": "3f5a779a6a2b97a9",
    "features.revenium_value": "ecb7635052b88cd8",
    "features.story": "2f574ba62a970bbd",
    "features.parameters": "4e20ea67bdc4294e",
    "features.by_feature": "ffd0a1c7462ee9a5",
    "features.by_product": "20a5bc82de339c54",
    "features.rule": "f46f5990ebfadcab",
}


@pytest.fixture(scope="module")
def now() -> dict[str, str]:
    return fingerprints(run_fixed())


def test_every_field_of_every_analyzer_is_frozen(now):
    assert set(now) == set(GOLDEN)


@pytest.mark.parametrize("field", sorted(GOLDEN))
def test_output_unchanged_on_the_fixed_seed(now, field):
    assert now[field] == GOLDEN[field], f"{field} differs from the frozen pre-rewrite output"
