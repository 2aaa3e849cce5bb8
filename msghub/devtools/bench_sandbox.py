"""Throughput of the rule sandbox: a trivial rule, many times, through the pool.

    python -m msghub.devtools.bench_sandbox [--evaluations N] [--workers W] [--concurrency C]

Prints one JSON line: {"evaluations", "per_s", "p50_ms", "p99_ms"}; the
latencies are per call as the caller sees them, queueing included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from msghub.rules.pool import SandboxPool

# Shaped like the rule API will be: functions that record actions.
PRELUDE = """
var __actions = [];
function reply(text) { __actions.push({type: 'reply', text: String(text)}); }
function send(to, text) { __actions.push({type: 'send', to: String(to), text: String(text)}); }
function move(folder) { __actions.push({type: 'move', folder: String(folder)}); }
function log() { __actions.push({type: 'log', text: Array.prototype.join.call(arguments, ' ')}); }
"""
RULE = "if (input.text.trim().toUpperCase() === 'HELLO') reply('Hi ' + input.from);"
FINISH = "JSON.stringify({actions: __actions})"


async def bench(evaluations: int, workers: int, concurrency: int) -> dict[str, float]:
    event = {"text": " hello ", "from": "+491701234567"}
    latencies: list[float] = []
    async with SandboxPool(workers) as pool:
        # Warm up: workers started and ready.
        await asyncio.gather(*(pool.run(PRELUDE, RULE, event, FINISH) for _ in range(workers)))
        queue = iter(range(evaluations))

        async def client() -> None:
            for _ in queue:
                start = time.perf_counter()
                result = await pool.run(PRELUDE, RULE, event, FINISH)
                latencies.append(time.perf_counter() - start)
                assert result["actions"][0]["text"] == "Hi +491701234567"

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "evaluations": evaluations,
        "per_s": round(evaluations / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "p99_ms": round(latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--evaluations", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4, help="calls in flight")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(bench(args.evaluations, args.workers, args.concurrency))))


if __name__ == "__main__":
    main()
