"""A Revenium-compatible metering API on loopback: real HTTP, faults, idempotent durable store.

Start it in-process (a background thread) or as a subprocess, point any client at
``emu.base_url`` with ``emu.api_key``, then read back what arrived. The emulator needs only
the standard library, pydantic, httptools and the wire mapping (``showcase_lib.wire``): no HTTP
client stack and nothing of the tracker (a test checks it).

Example:
    >>> import httpx, pandas as pd
    >>> from showcase_lib.wire import record_to_wire
    >>> rec = {"timestamp": pd.Timestamp("2026-01-01T00:00:00Z"), "call_id": "c1",
    ...        "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 10,
    ...        "output_tokens": 5, "latency_ms": 300, "cost_usd": 0.0001}
    >>> with Emulator() as emu:
    ...     r = httpx.post(emu.base_url + "v2/ai/completions", json=record_to_wire(rec),
    ...                    headers={"x-api-key": emu.api_key, "Idempotency-Key": "k1"})
    ...     (r.status_code, r.json()["resourceType"], emu.records()["call_id"].tolist())
    (201, 'metering', ['c1'])

A completion sent without ``totalCost`` is priced like the service prices it: from its tokens
(cache reads and writes, reasoning), its tier and its timestamp, through ``genai-prices``;
``emu.costs()`` (or ``GET /_emulator/costs``) shows each record's cost by token kind and where
it came from (the caller's cost, the package's price, the package's price times the tier
multiplier, or unpriced with the reason).

It is as strict and as lenient as the documented service: an unknown field is accepted
(201) and ignored, so ``emu.unknown_fields()`` reports it per record with the closest real
field (``totalCots`` -> ``totalCost``); a completion without ``transactionId`` gets its
``spanId`` or a generated UUID; a completion whose ``transactionId`` is already stored is the
same call, stored once (``stats()["duplicate_transactions"]``), and ``emu.duplicates()``
lists calls that look metered twice under two ids. Revenium's cost queries
(``/profitstream/v2/api/sources/metrics/ai/...``: by model, organization, product,
subscriber credential) answer from the store; ``showcase_lib.metering.query_costs`` reads
them into a DataFrame, from the emulator or from the real service.

Command line: ``python -m showcase_lib.emulator --host 127.0.0.1 --port PORT`` with the key in
``SHOWCASE_EMULATOR_API_KEY`` or ``--api-key-file PATH`` (``--api-key KEY`` still works, with a
warning: it shows in process listings). The admin routes (``/_emulator/*``) need the same key,
except health; HTTP framing is llhttp's, through ``httptools``.
"""

from showcase_lib.emulator._faults import FaultConfig, Outage
from showcase_lib.emulator._runner import Emulator
from showcase_lib.emulator._server import EmulatorServer, ServerOptions

__all__ = [
    "Emulator",
    "EmulatorServer",
    "FaultConfig",
    "Outage",
    "ServerOptions",
]
