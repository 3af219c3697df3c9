"""``--profile ENGINE:SCENARIO``: where one engine's request time goes."""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.benchmarks.bench_runner import Harness, Scenario


def profile(harness: Harness, scenario: Scenario, *, seconds: float) -> int:
    """Run the scenario for ``seconds`` under cProfile and print the hot spots."""
    from tests.benchmarks.bench_runner import prepare_group, run_batch

    n = scenario.sizes[0]
    case = prepare_group(scenario, n, [harness.engine], {harness.engine.key: harness})[
        harness.engine.key
    ]
    with harness.active(**scenario.settings(n)):
        run_batch(harness, case, 0.5, 1)  # warm up
        done, elapsed = run_batch(harness, case, seconds, scenario.min_iterations)
        rate = done / elapsed
        profiler = cProfile.Profile()
        profiler.enable()
        run_batch(harness, case, seconds, scenario.min_iterations)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(
        f"{harness.engine.label}, {scenario.label(n)}: {rate:,.0f} req/s unprofiled\n"
    )
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    out.write("Our code only (cumulative):\n")
    stats.sort_stats("cumulative").print_stats("django_sessionguard", 40)
    sys.stdout.write(out.getvalue())
    return 0
