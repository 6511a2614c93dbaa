"""What one stood-in LLM call costs the caller, and what Revenium's middleware adds to it.

Per call, best of ``--repeat`` runs of ``--calls`` calls, through the real ``openai`` /
``anthropic`` clients on ``showcase_lib.stand_in`` (latency 0):

1. the stand-in alone (in-process transport, then the loopback socket): the floor of every
   measurement that uses it, so a figure far above it is the metering, not the stand-in;
2. the same calls after ``import revenium_middleware.openai`` / ``.anthropic`` (0.12.0),
   metering into an emulator in its own process: the client-side time per metered call, and
   whether every record arrived (``flush_metering`` then the emulator's count).

Section 1 runs before the middleware is imported (its patches cannot be undone). Uses only
public names. Usage:
    .venv/bin/python benchmarks/bench_stand_in.py --calls 300 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import anthropic
import openai

from showcase_lib.emulator import Emulator
from showcase_lib.stand_in import StandIn

MSG = [{"role": "user", "content": "What does this call cost?"}]


def paths(cfg: StandIn, base_url: str | None) -> dict[str, Callable[[], object]]:
    """One call per path; ``base_url`` set means over the loopback socket."""
    if base_url is None:
        oa = openai.OpenAI(api_key="sk-stand-in", http_client=cfg.http_client())
        an = anthropic.Anthropic(api_key="sk-ant-stand-in", http_client=cfg.http_client())
    else:
        oa = openai.OpenAI(api_key="sk-stand-in", base_url=base_url + "v1")
        an = anthropic.Anthropic(api_key="sk-ant-stand-in", base_url=base_url)

    def chat() -> object:
        return oa.chat.completions.create(model="gpt-5.4-mini", messages=MSG)

    def chat_stream() -> object:
        return list(oa.chat.completions.create(model="gpt-5.4-mini", messages=MSG, stream=True))

    def messages() -> object:
        return an.messages.create(model="claude-haiku-4-5", max_tokens=500, messages=MSG)

    def messages_stream() -> object:
        with an.messages.stream(model="claude-haiku-4-5", max_tokens=500, messages=MSG) as s:
            return s.get_final_message()

    return {
        "openai chat": chat,
        "openai chat, streamed": chat_stream,
        "anthropic messages": messages,
        "anthropic messages, streamed": messages_stream,
    }


def best_us(fn: Callable[[], object], calls: int, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) microseconds per call over ``repeat`` runs of ``calls`` calls."""
    fn()  # warm-up: lazy imports, first connection
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        walls.append((time.perf_counter() - w0) / calls * 1e6)
        cpus.append((time.process_time() - c0) / calls * 1e6)
    return min(walls), min(cpus)


def table(title: str, rows: dict[str, tuple[float, float]]) -> None:
    print(f"\n{title}")
    print(f"  {'path':32} {'wall us/call':>13} {'CPU us/call':>12}")
    for name, (wall, cpu) in rows.items():
        print(f"  {name:32} {wall:13,.0f} {cpu:12,.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, openai {openai.__version__}, ", end="")
    print(f"anthropic {anthropic.__version__}; {args.calls} calls x {args.repeat} runs")
    cfg = StandIn(seed=1)
    alone = {k: best_us(f, args.calls, args.repeat) for k, f in paths(cfg, None).items()}
    table("1. the stand-in alone, in-process transport", alone)
    with cfg.serve() as srv:
        looped = {k: best_us(f, args.calls, args.repeat) for k, f in paths(cfg, srv.url).items()}
    table("1. the stand-in alone, loopback socket", looped)

    with Emulator(process=True) as emu:
        os.environ["REVENIUM_METERING_API_KEY"] = emu.api_key
        os.environ["REVENIUM_METERING_BASE_URL"] = emu.url.rstrip("/")
        import revenium_middleware
        import revenium_middleware.anthropic
        import revenium_middleware.openai  # the import patches the clients

        revenium_middleware.initialize_metering()
        metered = {k: best_us(f, args.calls, args.repeat) for k, f in paths(cfg, None).items()}
        t0 = time.perf_counter()
        left = revenium_middleware.flush_metering(60)
        drain = time.perf_counter() - t0
        made = len(metered) * (args.calls * args.repeat + 1)
        stored = emu.wait_for(made, timeout=60)
        table(
            "2. + revenium_middleware 0.12.0 metering into the emulator (in-process transport)",
            metered,
        )
        print(
            f"  records: made {made:,}, stored {stored:,}, left after flush {left}, "
            f"flush took {drain:.2f} s"
        )
        for name in metered:
            extra = metered[name][1] - alone[name][1]
            print(f"  {name:32} middleware CPU per call: {extra:+,.0f} us")


if __name__ == "__main__":
    main()
