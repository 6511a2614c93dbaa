"""The eight analyzers' outputs are frozen on a fixed-seed run (issue 14: faster, same answers).

``GOLDEN`` was computed on the implementation before the issue-14 rewrite (main 50a8c5f) from a
~50K-call ``incidents_2026`` run, per analyzer and result field (headline, findings, comparison,
every table, parameters): a digest of every text and integer value in order, the column names,
dtypes, index and where floats are missing or infinite; and the floats themselves (scalars as
they are, each float column as its sum and its position-weighted sum, so order counts), equal
to a relative 1e-9 (a cent in $10M: summing in another order moves the last digits only).
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


def _is_float(v: object) -> bool:
    return isinstance(v, float | np.floating)


def _cell(v: object) -> str:
    if v is None or v is pd.NaT or v is pd.NA or (_is_float(v) and math.isnan(v)):
        return "nan"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if _is_float(v):
        return "inf" if math.isinf(v) else "float"  # the value goes to the numbers
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def _frame(df: pd.DataFrame, numbers: list[float]) -> list[str]:
    parts = [repr(list(map(str, df.columns))), str(df.shape), repr([str(t) for t in df.dtypes])]
    parts.append(repr(df.index.names) + "|".join(map(_cell, df.index)))
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_float_dtype(col.dtype):
            x = col.to_numpy(dtype=float)
            ok = np.isfinite(x)
            parts.append("".join("f" if o else _cell(v) for o, v in zip(ok, x, strict=True)))
            w = np.arange(1, len(x) + 1)
            numbers += [float(x[ok].sum()), float((x[ok] * w[ok]).sum())]  # values and order
        else:
            parts.append("|".join(map(_cell, col.tolist())))
            numbers += [float(v) for v in col.tolist() if _is_float(v) and math.isfinite(v)]
    return parts


def _flat(obj: object, numbers: list[float]) -> list[str]:
    """Every value of a result field: text and integers as text, floats into ``numbers``."""
    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return _frame(obj, numbers)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [
            p
            for f in dataclasses.fields(obj)
            for p in [f.name, *_flat(getattr(obj, f.name), numbers)]
        ]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in [str(k), *_flat(v, numbers)]]
    if isinstance(obj, list | tuple):
        return [p for v in obj for p in _flat(v, numbers)]
    if _is_float(obj) and math.isfinite(obj):
        numbers.append(float(obj))
    return [_cell(obj)]


def fingerprints(results: dict) -> dict[str, tuple[str, list[float]]]:
    """``analyzer.field`` -> (digest of its text, integers and layout; its float checksums)."""
    out = {}
    for name, result in results.items():
        for f in dataclasses.fields(result):
            numbers: list[float] = []
            text = "\n".join(_flat(getattr(result, f.name), numbers))
            digest = hashlib.sha256(text.encode()).hexdigest()[:16]
            out[f"{name}.{f.name}"] = (digest, [float(f"{v:.12g}") for v in numbers])
    return out


def run_fixed() -> dict:
    sim = simulate("incidents_2026", days=30, customers=200, seed=14, calls_per_day=1700)
    return run_all(sim.calls, sim.customers, price_table())


GOLDEN: dict[str, tuple[str, list[float]]] = {
    "alignment.chargebacks": (
        "006013a418431e43",
        [
            829.222616725,
            11433.4484269,
            77.1405421,
            1063.62560781,
            906.363158825,
            12497.0740347,
            1.0,
            13.7881531404,
            906.363158825,
            26284.5316059,
            -1.24344978758e-14,
            13787.4575712,
            829.222616725,
            1595.12443037,
            77.1405421,
            148.39050551,
            906.363158825,
            1743.51493588,
            1.0,
            1.92363835501,
            906.363158825,
            2265.90789706,
            0.0,
            522.392961178,
            829.222616725,
            3032.66941575,
            77.1405421,
            282.121782526,
            906.363158825,
            3314.79119828,
            1.0,
            3.65724397114,
            906.363158825,
            7704.08685001,
            -2.84217094304e-14,
            4389.29565174,
        ],
    ),
    "alignment.comparison": ("6a28249551d4565d", [371.316908869, 0.0, 0.0, 0.0, 77.1405421, 3.0]),
    "alignment.findings": ("12d926c75a8bbe9f", []),
    "alignment.headline": (
        "7fa3df78d34546ab",
        [906.363158825, 77.1405421, 0.0851099709304, 57.0, 371.316908869],
    ),
    "alignment.name": ("47ccb97a79f5a2bf", []),
    "alignment.parameters": ("1a3760930bf0e79e", []),
    "alignment.revenium_value": ("985090f3b97e2760", []),
    "alignment.shared_usd": ("76a7e234dc54e9c6", [77.1405421]),
    "alignment.story": ("2468a29512907c7d", []),
    "alignment.tables": (
        "1831ff8a9e6df7d8",
        [
            829.222616725,
            11433.4484269,
            77.1405421,
            1063.62560781,
            906.363158825,
            12497.0740347,
            1.0,
            13.7881531404,
            906.363158825,
            26284.5316059,
            -1.24344978758e-14,
            13787.4575712,
            829.222616725,
            1595.12443037,
            77.1405421,
            148.39050551,
            906.363158825,
            1743.51493588,
            1.0,
            1.92363835501,
            906.363158825,
            2265.90789706,
            0.0,
            522.392961178,
            829.222616725,
            3032.66941575,
            77.1405421,
            282.121782526,
            906.363158825,
            3314.79119828,
            1.0,
            3.65724397114,
            906.363158825,
            7704.08685001,
            -2.84217094304e-14,
            4389.29565174,
        ],
    ),
    "alignment.title": ("1cf270e5fa9b9ff5", []),
    "features.by_feature": (
        "40ce98a3edafbdad",
        [
            829.222616725,
            4265.42485408,
            906.363158825,
            4662.22684535,
            42320.0,
            350505.336643,
            41413.6368412,
            345843.109798,
            3775.11490892,
            53496.2025825,
            17.8405404491,
            181.74304865,
            0.273277572737,
            1.48158803951,
        ],
    ),
    "features.by_product": (
        "8599e805865a299c",
        [
            906.363158825,
            1763.90070517,
            42320.0,
            110672.0,
            41413.6368412,
            108908.099295,
            367.88248391,
            1269.89298368,
        ],
    ),
    "features.comparison": ("d87158c1c763372a", [53.3356557506, 128.006967252]),
    "features.findings": ("c9c5192cd1ee99b2", []),
    "features.headline": (
        "8b23b79ea5eb8a61",
        [16.0, 0.0, 2207.84030956, 14.9641840498, 37.3356557506],
    ),
    "features.name": ("5b8a8b56dada6ce7", []),
    "features.parameters": ("4e20ea67bdc4294e", []),
    "features.revenium_value": ("ecb7635052b88cd8", []),
    "features.rule": ("f46f5990ebfadcab", []),
    "features.story": ("2f574ba62a970bbd", []),
    "features.tables": (
        "a7166814a56f2dcf",
        [
            829.222616725,
            4265.42485408,
            906.363158825,
            4662.22684535,
            42320.0,
            350505.336643,
            41413.6368412,
            345843.109798,
            3775.11490892,
            53496.2025825,
            17.8405404491,
            181.74304865,
            0.273277572737,
            1.48158803951,
            906.363158825,
            1763.90070517,
            42320.0,
            110672.0,
            41413.6368412,
            108908.099295,
            367.88248391,
            1269.89298368,
        ],
    ),
    "features.title": ("5c7e7eaa9c64d033", []),
    "optimization.comparison": (
        "45e09fa54e0c8c5e",
        [880.172815625, 0.0, 396.878094479, 551.878094479],
    ),
    "optimization.findings": ("4136c51d6e53a78b", []),
    "optimization.headline": (
        "62137a02f895ef0a",
        [880.172815625, 562.294721146, 0.638845816598, 528.2242222, 23.399187915, 75.244082775],
    ),
    "optimization.name": ("be92e94aba0be148", []),
    "optimization.opportunities": (
        "ec4589c38f437485",
        [1189.16221404, 3049.93373094, 1189.16221404, 3049.93373094, 1.35105537563, 3.46515329353],
    ),
    "optimization.parameters": ("260fd1d619bbb68a", [3.0, 0.9, 0.5]),
    "optimization.revenium_value": ("19b376ceeb12f6ae", []),
    "optimization.right_sizing": (
        "9b69b35c88f5d5b8",
        [
            880.172815625,
            19283.2469715,
            351.948593425,
            13689.0137509,
            528.2242222,
            5594.2332206,
            60.2355139266,
            2253.89407682,
            7654.0,
            319565.0,
            7531.0,
            314608.0,
            123.0,
            4957.0,
            528.2242222,
            5594.2332206,
        ],
    ),
    "optimization.story": ("f6929ebab520aa70", []),
    "optimization.tables": (
        "cb559d0cc84f7674",
        [
            1189.16221404,
            3049.93373094,
            1189.16221404,
            3049.93373094,
            1.35105537563,
            3.46515329353,
            880.172815625,
            19283.2469715,
            351.948593425,
            13689.0137509,
            528.2242222,
            5594.2332206,
            60.2355139266,
            2253.89407682,
            7654.0,
            319565.0,
            7531.0,
            314608.0,
            123.0,
            4957.0,
            528.2242222,
            5594.2332206,
        ],
    ),
    "optimization.title": ("e1a38ebaebe6f835", []),
    "performance.comparison": ("d2e62c34b91c4e05", [7419.94161618, 24397.4598976, 24398.472743]),
    "performance.efficiency": (
        "735058a67859c24d",
        [
            906.363158825,
            7841.70980487,
            1013.19565205,
            6160.25049956,
            10.7898431119,
            64.516304107,
            0.193960047103,
            1.65402234584,
            190934.183651,
            518793.733076,
        ],
    ),
    "performance.findings": ("44b38794f7376e5f", []),
    "performance.headline": (
        "34fd393946394d1e",
        [7419.94161618, 24396.5, 55592.05, 0.908096624439, 41.3173040613],
    ),
    "performance.latency": (
        "0c5730cdf34f36e4",
        [
            81213.4542833,
            354851.504025,
            55382.5,
            244541.0,
            240064.25,
            1011805.1,
            427901.6,
            1908345.85,
        ],
    ),
    "performance.name": ("4a1898716ef67796", []),
    "performance.parameters": ("d886a3599ca00ef3", [15000.0, 20000.0, 30000.0]),
    "performance.revenium_value": ("87fe85c8a2605a48", []),
    "performance.sla": ("3d10fce3930c21dc", [65000.0, 145000.0, 2.73934746458, 5.56632834608]),
    "performance.story": ("6e302e8730402326", []),
    "performance.tables": (
        "988250e45cd1be6d",
        [
            81213.4542833,
            354851.504025,
            55382.5,
            244541.0,
            240064.25,
            1011805.1,
            427901.6,
            1908345.85,
            65000.0,
            145000.0,
            2.73934746458,
            5.56632834608,
            906.363158825,
            7841.70980487,
            1013.19565205,
            6160.25049956,
            10.7898431119,
            64.516304107,
            0.193960047103,
            1.65402234584,
            190934.183651,
            518793.733076,
        ],
    ),
    "performance.title": ("b26a812455a0a7c1", []),
    "pricing.baseline": ("4cd4f886d80ff261", []),
    "pricing.by_segment": (
        "ed3a2d19f68002ba",
        [
            92818.2388809,
            656786.400139,
            4531.81579413,
            36429.0222239,
            88286.4230868,
            620357.377915,
            11.7743494187,
            91.3730184423,
            92818.2388809,
            656786.400139,
            4531.81579413,
            36429.0222239,
            88286.4230868,
            620357.377915,
            -118781.761119,
            -1117763.59986,
            -8.23130315001,
            -74.2056626313,
        ],
    ),
    "pricing.comparison": (
        "4bb76213853bf617",
        [1.0, 41413.6368412, 0.978583101162, 41574.4785179, 83152.9356949],
    ),
    "pricing.customers": (
        "00565e57abb64caa",
        [
            92818.2388809,
            45137756.1532,
            211600.0,
            103497800.0,
            -118781.761119,
            -58360043.8468,
            -513.303251003,
            -263807.560313,
        ],
    ),
    "pricing.findings": ("bb4aeb1394aed17d", []),
    "pricing.headline": (
        "29a7f250a014d155",
        [
            41413.6368412,
            0.978583101162,
            150.8630175,
            0.00364283431756,
            -39733.9508656,
            -0.959441234731,
        ],
    ),
    "pricing.models": (
        "b218eb410004b481",
        [
            999.0,
            149.0,
            29.0,
            0.0075,
            490.0,
            0.0097,
            4400.0,
            0.0075,
            0.0052,
            0.0,
            999.0,
            149.0,
            29.0,
            130000.0,
            20000.0,
            3900.0,
            0.0075,
            2.0,
        ],
    ),
    "pricing.name": ("1e2ea6d9b72e685b", []),
    "pricing.parameters": ("51a9c6d038d50fea", [3.0]),
    "pricing.revenium_value": ("3a5cf0f069e395ce", []),
    "pricing.story": ("a6b8636e900cd2dc", []),
    "pricing.summary": (
        "74f7b8c54c50b200",
        [
            92818.2388809,
            239001.521361,
            4531.81579413,
            13595.4473824,
            88286.4230868,
            225406.073978,
            3.94047925032,
            11.5092119527,
            92818.2388809,
            239001.521361,
            4531.81579413,
            13595.4473824,
            88286.4230868,
            225406.073978,
            -118781.761119,
            -395798.478639,
            -2.86817990834,
            -9.55720165697,
        ],
    ),
    "pricing.tables": (
        "27243ab6f3d3a3d0",
        [
            92818.2388809,
            239001.521361,
            4531.81579413,
            13595.4473824,
            88286.4230868,
            225406.073978,
            3.94047925032,
            11.5092119527,
            92818.2388809,
            239001.521361,
            4531.81579413,
            13595.4473824,
            88286.4230868,
            225406.073978,
            -118781.761119,
            -395798.478639,
            -2.86817990834,
            -9.55720165697,
            92818.2388809,
            656786.400139,
            4531.81579413,
            36429.0222239,
            88286.4230868,
            620357.377915,
            11.7743494187,
            91.3730184423,
            92818.2388809,
            656786.400139,
            4531.81579413,
            36429.0222239,
            88286.4230868,
            620357.377915,
            -118781.761119,
            -1117763.59986,
            -8.23130315001,
            -74.2056626313,
            92818.2388809,
            45137756.1532,
            211600.0,
            103497800.0,
            -118781.761119,
            -58360043.8468,
            -513.303251003,
            -263807.560313,
        ],
    ),
    "pricing.title": ("73a23c967a8170c7", []),
    "pricing.usage": (
        "c32165c733091302",
        [0.0, 0.0, 362964.967, 33635773.517, 906.363158825, 85022.9498231, 200.0, 20100.0],
    ),
    "profitability.by_band": (
        "5057a048bb59b2d5",
        [
            42320.0,
            42614.0,
            906.363158825,
            1066.24596343,
            41413.6368412,
            41547.7540366,
            1.28347222636,
            1.23277034333,
        ],
    ),
    "profitability.by_customer": (
        "a01a54d796073add",
        [
            42320.0,
            5122740.0,
            829.222616725,
            41157.5277301,
            906.363158825,
            44986.3113843,
            41413.6368412,
            5077753.68862,
            191.430240408,
            19851.2275382,
        ],
    ),
    "profitability.by_segment": (
        "44680832727c5a17",
        [
            42320.0,
            59394.0,
            906.363158825,
            1595.5164943,
            41413.6368412,
            57798.4835057,
            2.89399493819,
            5.73981865497,
        ],
    ),
    "profitability.comparison": (
        "519e3416d69d5e9a",
        [0.978583101162, 0.0, 10.2328559275, 0.978583101162, 1.0, 0.0],
    ),
    "profitability.findings": ("b95e025a75c971dd", []),
    "profitability.headline": (
        "fb02f96297e3b73a",
        [42320.0, 906.363158825, 0.978583101162, 1.0, 10.2328559275],
    ),
    "profitability.name": ("89939c5e8c9cd6e1", []),
    "profitability.parameters": ("e5f83ef9383e04e2", [0.7, 0.4, 0.0]),
    "profitability.revenium_value": ("47d9c3edb247aac9", []),
    "profitability.story": ("ce6151bf71599cb8", []),
    "profitability.tables": (
        "c0cd202d59dd93ca",
        [
            42320.0,
            5122740.0,
            829.222616725,
            41157.5277301,
            906.363158825,
            44986.3113843,
            41413.6368412,
            5077753.68862,
            191.430240408,
            19851.2275382,
            42320.0,
            42614.0,
            906.363158825,
            1066.24596343,
            41413.6368412,
            41547.7540366,
            1.28347222636,
            1.23277034333,
            42320.0,
            59394.0,
            906.363158825,
            1595.5164943,
            41413.6368412,
            57798.4835057,
            2.89399493819,
            5.73981865497,
        ],
    ),
    "profitability.title": ("89636a5ddb4bf4c4", []),
    "realtime.anomalies": ("91b2bd78f8ae8479", []),
    "realtime.budgets": (
        "4674145e142ae980",
        [
            1322.01678218,
            106477.156695,
            319.321504325,
            21133.7998498,
            43.2378116869,
            2724.35319399,
            1.53198482604,
            87.7539787146,
            1271330.59791,
            170869880.228,
            96000.9763889,
            9648098.12708,
        ],
    ),
    "realtime.comparison": ("04719d35073191a2", [0.695817089286, 0.0, 0.0, 0.0, 200.0]),
    "realtime.findings": ("a21b54e6686cc4b9", []),
    "realtime.headline": ("d5ac181efd68bf57", [0.0, 0.0, 1.0, 0.695817089286, 39.0, 1.53198482604]),
    "realtime.name": ("6091cb58f7fefea5", []),
    "realtime.parameters": ("f01736775ac5ae52", [0.3, 3.5, 2.0, 5.0]),
    "realtime.revenium_value": ("9aa24c1edcd5149a", []),
    "realtime.story": ("22907b8e5f725fcd", []),
    "realtime.tables": (
        "dd4a43030b2a60f4",
        [
            1322.01678218,
            106477.156695,
            319.321504325,
            21133.7998498,
            43.2378116869,
            2724.35319399,
            1.53198482604,
            87.7539787146,
            1271330.59791,
            170869880.228,
            96000.9763889,
            9648098.12708,
        ],
    ),
    "realtime.title": ("011b029599da2c1b", []),
    "understanding.allocation": (
        "c28b793272f204ee",
        [
            906.363158825,
            12520.0728328,
            1.0,
            13.8135279561,
            0.953574358893,
            25.1949341681,
            0.126344449386,
            3.50351351167,
            906.363158825,
            1742.6737536,
            1.0,
            1.92271026975,
            0.0678166562649,
            0.149311412626,
            0.0086890268441,
            0.0203741976159,
            906.363158825,
            3315.55355465,
            1.0,
            3.65808508694,
            0.250656240892,
            1.5127815716,
            0.0376245569175,
            0.2701994283,
            906.363158825,
            24156.0711919,
            1.0,
            26.6516472528,
            3.02236436589,
            247.629033662,
            0.405496820054,
            36.132358629,
            906.363158825,
            2916.89670602,
            1.0,
            3.21824279553,
            0.189422320826,
            0.679725389583,
            0.0222744920062,
            0.0863308454538,
            906.363158825,
            1586.50916732,
            1.0,
            1.75041224026,
            0.0678391614981,
            0.159719562869,
            0.00886201136983,
            0.0212140040619,
        ],
    ),
    "understanding.comparison": ("18289832c397c433", [0.0, 1220.5476768, 3999.65889141]),
    "understanding.daily": ("5a95654f7cda2406", [906.363158825, 14074.279594]),
    "understanding.findings": ("40746d9aaedbfb65", []),
    "understanding.forecast": (
        "52e07b513e72b02d",
        [923.015861008, 14358.9914597, 815.12284784, 12686.6496981, 1030.90887418, 16031.3332212],
    ),
    "understanding.headline": (
        "e06476e4500135ca",
        [
            906.363158825,
            906.363158825,
            0.0178291596275,
            0.00229251762483,
            923.015861008,
            0.000377761229114,
            4.53181579413,
        ],
    ),
    "understanding.name": ("04214cad51df8166", []),
    "understanding.parameters": ("ecae3d70fa624ff9", []),
    "understanding.revenium_value": ("80d3beda8fe5319d", []),
    "understanding.story": ("2eb999158ad6ba93", []),
    "understanding.tables": (
        "2a847f9eebbf1e6a",
        [
            4.58028612516,
            13.7312561924,
            906.363158825,
            14074.279594,
            906.363158825,
            12520.0728328,
            1.0,
            13.8135279561,
            0.953574358893,
            25.1949341681,
            0.126344449386,
            3.50351351167,
            906.363158825,
            1742.6737536,
            1.0,
            1.92271026975,
            0.0678166562649,
            0.149311412626,
            0.0086890268441,
            0.0203741976159,
            906.363158825,
            3315.55355465,
            1.0,
            3.65808508694,
            0.250656240892,
            1.5127815716,
            0.0376245569175,
            0.2701994283,
            906.363158825,
            24156.0711919,
            1.0,
            26.6516472528,
            3.02236436589,
            247.629033662,
            0.405496820054,
            36.132358629,
            906.363158825,
            2916.89670602,
            1.0,
            3.21824279553,
            0.189422320826,
            0.679725389583,
            0.0222744920062,
            0.0863308454538,
            906.363158825,
            1586.50916732,
            1.0,
            1.75041224026,
            0.0678391614981,
            0.159719562869,
            0.00886201136983,
            0.0212140040619,
        ],
    ),
    "understanding.title": ("3b2a1eb2f4e78f17", []),
    "understanding.unit_costs": ("09e44e2dc549e961", [4.58028612516, 13.7312561924]),
}


@pytest.fixture(scope="module")
def now() -> dict[str, tuple[str, list[float]]]:
    return fingerprints(run_fixed())


def test_every_field_of_every_analyzer_is_frozen(now):
    assert set(now) == set(GOLDEN)


@pytest.mark.parametrize("field", sorted(GOLDEN))
def test_output_unchanged_on_the_fixed_seed(now, field):
    digest, numbers = now[field]
    assert digest == GOLDEN[field][0], f"{field}: text, integers or layout differ"
    assert numbers == pytest.approx(GOLDEN[field][1], rel=1e-9, abs=1e-9), (
        f"{field}: a figure differs"
    )
