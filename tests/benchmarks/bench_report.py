"""Turning results into the printed table, ``docs/benchmarks.md`` and its
machine-readable twin ``docs/benchmarks.json``; reading them back.

The JSON carries every row's exact counts (and its timings); the test that
keeps the page honest (``tests/test_benchmark_counts.py``) measures the counts
again with ``--counts-only`` and compares them with it, and checks that the
page's table says the same as the JSON (:func:`compare_counts`,
:func:`compare_markdown`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.benchmarks.bench_runner import Result, Scenario

#: Issue #2: our cached_db authenticated read vs Django's cache engine.
S1_TARGET = 0.95
#: The S1 group the target is measured on (the user has one session).
S1_N = 1

#: What to run when the published counts are stale.
REGENERATE = "run `make bench` to regenerate docs/benchmarks.md and benchmarks.json"

#: The count cells of the table, by their key in ``Result.counts``.
COUNT_COLUMNS = {
    "SQL/req": "sql_cell",
    "writes/req": "writes",
    "Redis cmds/req": "redis_commands",
}

HEADERS = (
    "scenario",
    "engine",
    "req/s (median)",
    "min-max",
    "x Django cache",
    "x Django cached_db",
    "SQL/req",
    "writes/req",
    "Redis cmds/req",
)


@dataclass
class Check:
    #: None: information, not a target.
    ok: bool | None
    text: str


class Report:
    def __init__(self, results: list[Result], meta: dict[str, str]) -> None:
        self.results = results
        self.meta = meta

    def _find(self, engine_key: str, scenario: str, n: int) -> Result | None:
        for result in self.results:
            if (result.engine.key, result.scenario.key, result.n) == (
                engine_key,
                scenario,
                n,
            ):
                return result
        return None

    def ratio(self, result: Result, baseline_key: str) -> float | None:
        """Median of the per-round ratios to the baseline engine.

        Each round measures every engine within a second or so, so a ratio
        taken inside a round cancels most of the machine's drift; the median
        of those ratios is steadier than a ratio of two medians.
        """
        base = self._find(baseline_key, result.scenario.key, result.n)
        if base is None or not result.rates:
            return None
        return statistics.median(self._round_ratios(result, base))

    @staticmethod
    def _round_ratios(result: Result, base: Result) -> list[float]:
        return [
            ours / theirs for ours, theirs in zip(result.rates, base.rates, strict=True)
        ]

    def rows(self) -> list[tuple[str, ...]]:
        rows = []
        for r in self.results:
            ratios = [self.ratio(r, key) for key in ("dj_cache", "dj_cached_db")]
            rows.append(
                (
                    r.scenario.label(r.n),
                    r.engine.label,
                    f"{r.median:,.0f}",
                    f"{min(r.rates):,.0f}-{max(r.rates):,.0f}",
                    *(f"{x:.2f}" if x is not None else "-" for x in ratios),
                    *(str(r.counts[key]) for key in COUNT_COLUMNS.values()),
                )
            )
        return rows

    def target_met(self) -> bool | None:
        ours = self._find("sg_cached_db", "S1", S1_N)
        if ours is None or self._find("dj_cache", "S1", S1_N) is None:
            return None
        ratio = self.ratio(ours, "dj_cache")
        return ratio is not None and ratio >= S1_TARGET

    def s1_speed(self) -> Check | None:
        """The S1 target, with what it has to be read against: the run's noise
        floor and the machine's load, stated next to it."""
        ours = self._find("sg_cached_db", "S1", S1_N)
        base = self._find("dj_cache", "S1", S1_N)
        if ours is None or base is None:
            return None
        ratio = self.ratio(ours, "dj_cache") or 0.0
        ok = ratio >= S1_TARGET
        parts = [
            f"S1 speed: sessionguard cached_db = {ratio:.3f}x Django cache "
            f"(target ≥ {S1_TARGET}): "
            + ("met." if ok else f"missed by {S1_TARGET - ratio:.3f}.")
        ]
        twin = self._find("dj_cached_db", "S1", S1_N)
        noise: float | None = None
        if twin is not None:
            round_ratios = sorted(self._round_ratios(twin, base))
            twin_ratio = statistics.median(round_ratios)
            noise = abs(twin_ratio - 1)
            spread = ""
            if len(round_ratios) >= 2:
                q1, _, q3 = statistics.quantiles(round_ratios, n=4)
                spread = (
                    f"; its per-round ratios spread over {q1:.2f}-{q3:.2f} (quartiles)"
                )
            parts.append(
                f"Noise floor of this run: {noise:.3f}. Django cached_db does "
                "exactly Django cache's work in S1 (one GET, the same SQL) and "
                f"measured {twin_ratio:.3f}x Django cache, where 1.000 is the "
                f"truth{spread}."
            )
        else:
            parts.append("No noise floor: Django cached_db was not run.")
        m = self.meta
        parts.append(
            f"Load average {m.get('load_start', '?')} at the start and "
            f"{m.get('load_end', '?')} at the end of the run, on "
            f"{m.get('cpus', '?')} CPUs."
        )
        if _busy(m):
            parts.append(
                "The machine had more work than CPUs: every engine was slowed "
                "and the ratios are noisier than on an idle machine."
            )
        if noise is not None:
            margin = abs(ratio - S1_TARGET)
            if not ok and margin > noise:
                parts.append(
                    f"The miss ({margin:.3f}) is larger than this noise floor "
                    f"({noise:.3f})."
                )
            elif not ok:
                parts.append(
                    f"The miss ({margin:.3f}) is within this noise floor "
                    f"({noise:.3f}): this run cannot tell a shortfall from noise."
                )
            elif margin <= noise:
                parts.append(
                    f"The margin ({margin:.3f}) is within this noise floor "
                    f"({noise:.3f}): another run may miss."
                )
        return Check(ok, " ".join(parts))

    def checks(self) -> list[Check]:
        """The issue's targets, as measured in this run."""
        checks = []
        speed = self.s1_speed()
        if speed is not None:
            checks.append(speed)
        ours = self._find("sg_cached_db", "S1", S1_N)
        base = self._find("dj_cache", "S1", S1_N)
        if ours is not None and base is not None:
            same_sql = ours.counts["sql"] == base.counts["sql"]
            checks.append(
                Check(
                    same_sql
                    and ours.counts["redis"] == 1
                    and ours.counts["writes"] == 0,
                    "S1 counts: sessionguard cached_db makes "
                    f"{ours.counts['redis_commands']} Redis command(s), "
                    f"{ours.counts['writes']} writes, {ours.counts['sql']} SQL "
                    f"(Django cache: {base.counts['sql']}, i.e. the user lookup only)",
                )
            )
        write = self._find("sg_cached_db", "S2", 0)
        if write is not None:
            sets = write.counts["redis_commands"].count("SET")
            checks.append(
                Check(
                    write.counts["writes"] <= 1
                    and "SET" in write.counts["redis_commands"],
                    f"S2 counts: sessionguard cached_db makes "
                    f"{write.counts['redis_commands']} Redis command(s) "
                    f"({sets} SET), {write.counts['writes']} SQL write(s)",
                )
            )
        return checks

    # -- plain text ------------------------------------------------------------

    def text(self, *, show_sql: bool = False) -> str:
        lines = ["", self._title_line(), ""]
        lines.extend(_table([HEADERS, *self.rows()], right={2, 3, 4, 5, 6, 7}))
        lines.append("")
        labels = {True: "[ok]", False: "[MISSED]", None: "[info]"}
        for check in self.checks():
            lines.append(f"{labels[check.ok]} {check.text}")
        lines.extend(self._sql_lines(show_sql))
        lines.append("")
        return "\n".join(lines)

    def counts_text(self, *, show_sql: bool = False) -> str:
        """``--counts-only``: the count columns alone."""
        headers = ("scenario", "engine", *COUNT_COLUMNS)
        rows = [
            (
                r.scenario.label(r.n),
                r.engine.label,
                *(str(r.counts[key]) for key in COUNT_COLUMNS.values()),
            )
            for r in self.results
        ]
        m = self.meta
        lines = [
            "",
            f"Exact counts per request, {m['date']}: Django {m['django']}, "
            f"PostgreSQL {m['postgresql']}, Redis {m['redis']} (nothing timed)",
            "",
        ]
        lines.extend(_table([headers, *rows], right={2, 3}))
        lines.extend(self._sql_lines(show_sql))
        lines.append("")
        return "\n".join(lines)

    def _sql_lines(self, show_sql: bool) -> list[str]:
        if not show_sql:
            return []
        lines = [""]
        for r in self.results:
            lines.append(f"{r.scenario.label(r.n)} / {r.engine.label}:")
            lines.extend(f"    {sql}" for sql in r.sql)
        return lines

    def _title_line(self) -> str:
        m = self.meta
        return (
            f"Session engines, {m['date']}: Django {m['django']}, "
            f"Python {m['python']}, "
            f"PostgreSQL {m['postgresql']}, Redis {m['redis']}; "
            f"median of {m['rounds']} interleaved rounds of {m['seconds']}s "
            f"({m['mode']} run, {m['duration']}; load average "
            f"{m['load_start']} at the start, {m['load_end']} at the end)"
        )

    # -- JSON ------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        """What ``docs/benchmarks.json`` holds: the run and every row."""
        rows = []
        for r in self.results:
            rows.append(
                {
                    "scenario": r.scenario.key,
                    "n": r.n,
                    "label": r.scenario.label(r.n),
                    "engine": r.engine.key,
                    "engine_label": r.engine.label,
                    "counts": r.counts,
                    "requests_per_second": (
                        {
                            "median": round(r.median, 1),
                            "min": round(min(r.rates), 1),
                            "max": round(max(r.rates), 1),
                        }
                        if r.rates
                        else None
                    ),
                    "ratios": {
                        key: None if x is None else round(x, 3)
                        for key in ("dj_cache", "dj_cached_db")
                        for x in [self.ratio(r, key)]
                    },
                }
            )
        return {
            "generated_by": "python -m tests.benchmarks (make bench)",
            "meta": self.meta,
            "results": rows,
        }

    # -- markdown --------------------------------------------------------------

    def markdown(self) -> str:
        m = self.meta
        scenarios: dict[str, Scenario] = {}
        for r in self.results:
            scenarios.setdefault(r.scenario.key, r.scenario)
        headline_rounds = ", ".join(
            f"{s.label(n)}: {factor} x {m['rounds']}"
            for s in scenarios.values()
            for n, factor in s.round_factors.items()
        )
        table = [
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join(["---", "---"] + ["---:"] * 6 + ["---"]) + "|",
            *("| " + " | ".join(row) + " |" for row in self.rows()),
        ]
        marks = {True: "✅ ", False: "❌ ", None: ""}
        checks = [f"- {marks[c.ok]}{c.text}" for c in self.checks()]
        others = int(m.get("other_sessions", "0"))
        out = [
            "# Benchmarks",
            "",
            "<!-- Generated by `make bench` (python -m tests.benchmarks), with "
            "benchmarks.json; edits are overwritten. -->",
            "",
            "django-sessionguard's engines against Django's own, **in one run, on the "
            "same PostgreSQL database and Redis server**, through Django's real "
            "request cycle. On a shared machine one engine measured after another "
            "drifts by ±40%, so the engines are interleaved: each round gives every "
            "engine the same time, cut into short slices taken in turn (A B C D E "
            "A B C D E …, in a new order each round), so that whatever else the "
            "machine does meanwhile hits all of them alike. Requests/s are the "
            "medians over the rounds; a ratio is the median of the per-round "
            "ratios. The ratios are the numbers to read; the absolute requests/s "
            "depend on the machine. The SQL, "
            "write and Redis counts are exact: they are counted on one request, "
            "statement by statement.",
            "",
            f"- **Run**: {m['date']}, {m['mode']} run, {m['rounds']} rounds "
            f"({headline_rounds}) of {m['seconds']} s per engine and scenario, "
            f"{m['duration']} in all.",
            f"- **Code**: django-sessionguard {m['revision']}.",
            f"- **Machine**: {m['cpu']}, load average {m['load_start']} at the "
            f"start and {m['load_end']} at the end of the run; {m['os']}.",
            f"- **Software**: Python {m['python']}, Django {m['django']}, "
            f"PostgreSQL {m['postgresql']} (psycopg 3, persistent connections), "
            f"Redis {m['redis']} through django-redis, all on loopback.",
            "",
            "## Reproduce",
            "",
            "```sh",
            "make bench  # full run (~4 minutes), rewrites this page and "
            "benchmarks.json",
            "# or, with the virtualenv's python:",
            "python -m tests.benchmarks               # the same",
            "python -m tests.benchmarks --quick       # smoke run, prints only",
            "python -m tests.benchmarks --counts-only # exact counts only, seconds",
            "python -m tests.benchmarks --help        # subsets, --sql, --profile E:S",
            "```",
            "",
            "Needs PostgreSQL on 127.0.0.1:5432 (user `postgres`; the database "
            "`sessionguard_bench` is created, migrated and emptied) and Redis on "
            "127.0.0.1:6379 (databases 9 and 10 are flushed). "
            "`SESSIONGUARD_BENCH_DB_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_NAME`, "
            "`SESSIONGUARD_BENCH_REDIS_URL` and `SESSIONGUARD_BENCH_DJANGO_REDIS_URL` "
            "point it elsewhere.",
            "",
            "The exact counts of this page are also in `docs/benchmarks.json`, "
            "with the run's other numbers. "
            "`tests/test_benchmark_counts.py` (PostgreSQL + Redis test legs) "
            "measures them again (`--counts-only`, nothing timed) and fails when "
            "they differ, or when this page and the JSON disagree: after a change "
            "to the engines, run `make bench`.",
            "",
            "## Scenarios",
            "",
            *(
                f"- **{s.key}**: {s.title}"
                + (f". N: {s.n_means}." if s.n_means else "")
                for s in scenarios.values()
            ),
            "",
            "Each engine runs with its own session middleware followed by "
            "`AuthenticationMiddleware`, nothing else, so the session layer is as "
            "large a share of each request as it can be. Django's engines run "
            "with Django's `SessionMiddleware`; ours with `SessionGuardMiddleware` "
            "and the policy a deployment would enable (idle timeout 30 min, "
            "absolute 24 h, activity written at most once a minute, IP and "
            "User-Agent change checks).",
            "",
            "**The stores.** Every scenario, at every N, starts from emptied "
            "stores that then hold the scenario users' sessions and "
            f"{others:,} sessions of other users ({others // 10:,} users, ten "
            "sessions each), as seen from every engine: Django's db and cached_db "
            "share the `django_session` table, so each one's user counts among "
            "the other's others; our two engines share `sessionguard_session` the "
            "same way. Django's cache engine keeps its sessions in a Redis database "
            "of their own (10 by default), so that what a `SCAN` walks is that "
            "population and nothing the other engines left.",
            "",
            "**Django's engines in S4 and S5.** A Django session records no owner "
            "outside its data, so the only way to list or end \"this user's "
            'sessions" is to read and decode every session in the store '
            "(`tests/benchmarks/bench_django.py`, as a real application would do "
            "it): for db and cached_db, one `SELECT` of every unexpired "
            "`django_session` row, each one's data decoded (signed, compressed "
            "JSON), those whose `_auth_user_id` is the user's kept; ending them is "
            "one `DELETE ... IN (...)` plus, for cached_db, one `DEL` of their "
            "cached copies. For the cache engine Redis is the only store: a `SCAN` "
            "of its key prefix over the whole database, about 1,000 keys a call, "
            "one `MGET` per page, each value unpickled; ending them is one `DEL`. "
            f"Their cost grows with the store (N + {others:,} sessions decoded), "
            "ours with N only (an indexed query).",
            "",
            "**N.** S1 runs with users holding 1, 50 and 1,000 sessions to show "
            "that a read does not depend on them. S3L is the sign-in whose cost "
            "can: under `SESSIONGUARD_MAX_SESSIONS` our engines lock the user and "
            "read the user's live sessions to pick the ones to evict; Django has "
            "no session limit, so S3L has no Django row (S3 is Django's sign-in). "
            "S2 and S3 run once: neither a write nor a sign-in without a limit "
            "looks at the user's other sessions, in any engine.",
            "",
            "## Results",
            "",
            *table,
            "",
            "*SQL/req* includes the `auth_user` lookup every authenticated request "
            "makes whatever the engine; `+2tx` means a BEGIN and a COMMIT were sent "
            "as well (a transaction); *writes/req* counts INSERT/UPDATE/DELETE "
            "statements; *Redis cmds/req* counts commands sent by this process "
            "(one `MGET` is one command and one round trip; where a pipeline sent "
            "several at once, the cell says how many round trips). Django's cache "
            "engine "
            "in S4 and S5 needs ⌈keys in its Redis database / 1,000⌉ `SCAN`s and "
            "as many `MGET`s.",
            "",
            "## Targets",
            "",
            *checks,
            "",
        ]
        return "\n".join(out)


def _busy(meta: dict[str, str]) -> bool:
    """Whether a load average exceeded the CPUs during the run."""
    try:
        cpus = int(meta["cpus"])
        loads = [
            float(x)
            for key in ("load_start", "load_end")
            for x in meta[key].split(",")[:1]
        ]
    except (KeyError, ValueError):
        return False
    return cpus > 0 and max(loads) > cpus


def _table(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    """Rows as aligned text, a rule under the header, a gap between groups."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    previous = None
    for index, row in enumerate(rows):
        if index > 1 and row[0] != previous:
            lines.append("")
        previous = row[0]
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


# -- the JSON twin, read back ------------------------------------------------------


def data_path(markdown_path: str | Path) -> Path:
    """``docs/benchmarks.md`` -> ``docs/benchmarks.json``."""
    return Path(markdown_path).with_suffix(".json")


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    Path(path).write_text(
        json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


RowKey = tuple[str, str]


def counts_by_row(data: dict[str, Any]) -> dict[RowKey, dict[str, Any]]:
    """``{(label, engine label): counts}`` of a JSON run."""
    return {
        (row["label"], row["engine_label"]): row["counts"] for row in data["results"]
    }


def compare_counts(published: dict[str, Any], measured: dict[str, Any]) -> list[str]:
    """How the counts of ``measured`` differ from ``published`` (empty: same)."""
    old, new = counts_by_row(published), counts_by_row(measured)
    problems = []
    for key in new.keys() - old.keys():
        problems.append(f"{key[0]} / {key[1]}: measured, not published")
    for key in old.keys() - new.keys():
        problems.append(f"{key[0]} / {key[1]}: published, no longer measured")
    for key in sorted(old.keys() & new.keys()):
        changed = [
            f"{name} {old[key].get(name)!r} -> {new[key].get(name)!r}"
            for name in sorted(old[key].keys() | new[key].keys())
            if old[key].get(name) != new[key].get(name)
        ]
        if changed:
            problems.append(f"{key[0]} / {key[1]}: " + ", ".join(changed))
    return sorted(problems)


def markdown_counts(text: str) -> dict[RowKey, tuple[str, ...]]:
    """The count cells of the page's Results table, by (scenario, engine)."""
    lines = text.splitlines()
    header = "| " + " | ".join(HEADERS) + " |"
    if header not in lines:
        raise ValueError("no Results table with the expected header")
    columns = [HEADERS.index(name) for name in COUNT_COLUMNS]
    found: dict[RowKey, tuple[str, ...]] = {}
    for line in lines[lines.index(header) + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found[(cells[0], cells[1])] = tuple(cells[i] for i in columns)
    return found


def compare_markdown(text: str, data: dict[str, Any]) -> list[str]:
    """How the page's table differs from the JSON's counts (empty: same)."""
    page = markdown_counts(text)
    twin = {
        key: tuple(str(counts[name]) for name in COUNT_COLUMNS.values())
        for key, counts in counts_by_row(data).items()
    }
    problems = []
    for key in sorted(page.keys() | twin.keys()):
        if key not in page:
            problems.append(f"{key[0]} / {key[1]}: in the JSON, not on the page")
        elif key not in twin:
            problems.append(f"{key[0]} / {key[1]}: on the page, not in the JSON")
        elif page[key] != twin[key]:
            problems.append(f"{key[0]} / {key[1]}: page {page[key]}, JSON {twin[key]}")
    return problems
