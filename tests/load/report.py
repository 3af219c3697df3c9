"""The run's summary: requests, kinds, statuses, latencies, violations."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tests.load.model import CATEGORIES, Record


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (which must not be empty)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Summary:
    requests: int
    seconds: float
    setup_requests: int
    lines: list[str]
    violations: dict[str, int]

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def summarise(
    records: Sequence[Record],
    setup: Sequence[Record],
    seconds: float,
    violations: Sequence[tuple[str, str]],
    context: str,
) -> Summary:
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_kind[record.kind].append(record)
    statuses = Counter(record.status for record in records)
    lines = [
        f"Load/fuzz run: {len(records)} requests in {seconds:.1f} s "
        f"({len(records) / seconds:.0f} requests/s), after {len(setup)} requests "
        "of sign-in set-up",
        context,
        "",
        f"| {'kind':<26} | {'requests':>8} | {'statuses':<26} | {'p50 ms':>7} "
        f"| {'p90 ms':>7} | {'p99 ms':>7} |",
        f"| {'-' * 26} | {'-' * 7}: | {'-' * 26} "
        f"| {'-' * 6}: | {'-' * 6}: | {'-' * 6}: |",
    ]
    rows = sorted(by_kind.items(), key=lambda item: -len(item[1]))
    for kind, group in [*rows, ("all", list(records))]:
        times = [record.elapsed for record in group]
        counted = Counter(record.status for record in group)
        shown = ", ".join(f"{status}: {n}" for status, n in sorted(counted.items()))
        lines.append(
            f"| {kind:<26} | {len(group):>8} | {shown:<26} | "
            f"{ms(percentile(times, 0.5)):>7} | {ms(percentile(times, 0.9)):>7} | "
            f"{ms(percentile(times, 0.99)):>7} |"
        )
    lines += [
        "",
        "Status histogram: "
        + ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items())),
        f"Mean latency {ms(statistics.fmean(r.elapsed for r in records))} ms",
        "",
    ]
    counts = Counter(category for category, _ in violations)
    for category in CATEGORIES:
        lines.append(f"{category}: {counts[category]}")
    for category, message in violations[:50]:
        lines.append(f"  VIOLATION ({category}): {message}")
    if len(violations) > 50:
        lines.append(f"  ... and {len(violations) - 50} more")
    return Summary(
        requests=len(records),
        seconds=seconds,
        setup_requests=len(setup),
        lines=lines,
        violations={category: counts[category] for category in CATEGORIES},
    )
