"""Turning results into the printed table and ``docs/benchmarks.md``."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.benchmarks.bench_runner import Result

#: Issue #2: our cached_db authenticated read vs Django's cache engine.
S1_TARGET = 0.95

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
        if base is None:
            return None
        return statistics.median(
            ours / theirs for ours, theirs in zip(result.rates, base.rates, strict=True)
        )

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
                    r.counts["sql_cell"],
                    str(r.counts["writes"]),
                    r.counts["redis_commands"],
                )
            )
        return rows

    def target_met(self) -> bool | None:
        ours = self._find("sg_cached_db", "S1", 0)
        if ours is None or self._find("dj_cache", "S1", 0) is None:
            return None
        ratio = self.ratio(ours, "dj_cache")
        return ratio is not None and ratio >= S1_TARGET

    def checks(self) -> list[Check]:
        """The issue's targets, as measured in this run."""
        checks = []
        ours = self._find("sg_cached_db", "S1", 0)
        base = self._find("dj_cache", "S1", 0)
        if ours is not None and base is not None:
            ratio = self.ratio(ours, "dj_cache") or 0.0
            checks.append(
                Check(
                    ratio >= S1_TARGET,
                    f"S1 speed: sessionguard cached_db = {ratio:.3f}x Django cache "
                    f"(target ≥ {S1_TARGET})",
                )
            )
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
        twin = self._find("dj_cached_db", "S1", 0)
        if twin is not None and base is not None:
            checks.append(
                Check(
                    None,
                    "Noise floor: Django cached_db, which does exactly the work of "
                    "Django cache in S1 (one GET, the same SQL), measured "
                    f"{self.ratio(twin, 'dj_cache'):.3f}x Django cache in this run",
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
        rows = [HEADERS, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
        right = {2, 3, 4, 5, 6, 7}
        lines = ["", self._title_line(), ""]
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
        lines.append("")
        labels = {True: "[ok]", False: "[MISSED]", None: "[info]"}
        for check in self.checks():
            lines.append(f"{labels[check.ok]} {check.text}")
        if show_sql:
            lines.append("")
            for r in self.results:
                lines.append(f"{r.scenario.label(r.n)} / {r.engine.label}:")
                lines.extend(f"    {sql}" for sql in r.sql)
        lines.append("")
        return "\n".join(lines)

    def _title_line(self) -> str:
        m = self.meta
        return (
            f"Session engines, {m['date']}: Django {m['django']}, "
            f"Python {m['python']}, "
            f"PostgreSQL {m['postgresql']}, Redis {m['redis']}; "
            f"median of {m['rounds']} interleaved rounds of {m['seconds']}s "
            f"({m['mode']} run, {m['duration']})"
        )

    # -- markdown --------------------------------------------------------------

    def markdown(self) -> str:
        m = self.meta
        scenarios: dict[str, str] = {}
        for r in self.results:
            scenarios.setdefault(r.scenario.key, r.scenario.title)
        table = [
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join(["---", "---"] + ["---:"] * 6 + ["---"]) + "|",
            *("| " + " | ".join(row) + " |" for row in self.rows()),
        ]
        marks = {True: "✅ ", False: "❌ ", None: ""}
        checks = [f"- {marks[c.ok]}{c.text}" for c in self.checks()]
        out = [
            "# Benchmarks",
            "",
            "<!-- Generated by `make bench` (python -m tests.benchmarks); "
            "edits are overwritten. -->",
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
            f"(S1: 3 x {m['rounds']}) of {m['seconds']} s per engine and scenario, "
            f"{m['duration']} in all.",
            f"- **Code**: django-sessionguard {m['revision']}.",
            f"- **Machine**: {m['cpu']}; {m['os']}.",
            f"- **Software**: Python {m['python']}, Django {m['django']}, "
            f"PostgreSQL {m['postgresql']} (psycopg 3, persistent connections), "
            f"Redis {m['redis']} through django-redis, all on loopback.",
            "",
            "## Reproduce",
            "",
            "```sh",
            "make bench  # full run (~2-3 minutes), rewrites this page",
            "# or, with the virtualenv's python:",
            "python -m tests.benchmarks          # the same",
            "python -m tests.benchmarks --quick  # smoke run in seconds, prints only",
            "python -m tests.benchmarks --help   # subsets, --sql, --profile E:S",
            "```",
            "",
            "Needs PostgreSQL on 127.0.0.1:5432 (user `postgres`; the database "
            "`sessionguard_bench` is created, migrated and emptied) and Redis on "
            "127.0.0.1:6379 (database 9 is flushed). `SESSIONGUARD_BENCH_DB_HOST`, "
            "`_PORT`, `_USER`, `_PASSWORD`, `_NAME` and `SESSIONGUARD_BENCH_REDIS_URL` "
            "point it elsewhere.",
            "",
            "## Scenarios",
            "",
            *(f"- **{key}**: {title}" for key, title in scenarios.items()),
            "",
            "Each engine runs with its own session middleware followed by "
            "`AuthenticationMiddleware`, nothing else, so the session layer is as "
            "large a share of each request as it can be. Django's engines run "
            "with Django's `SessionMiddleware`; ours with `SessionGuardMiddleware` "
            "and the policy a deployment would enable (idle timeout 30 min, "
            "absolute 24 h, activity written at most once a minute, IP and "
            "User-Agent change checks). S4 and S5 have no Django counterpart: "
            "Django's engines cannot find a user's sessions without decoding every "
            "session in the store.",
            "",
            "## Results",
            "",
            *table,
            "",
            "*SQL/req* includes the `auth_user` lookup every authenticated request "
            "makes whatever the engine; `+2tx` means a BEGIN and a COMMIT were sent "
            "as well (a transaction); *writes/req* counts INSERT/UPDATE/DELETE "
            "statements; *Redis cmds/req* counts commands sent by this process "
            "(one `MGET` is one command and one round trip).",
            "",
            "## Targets",
            "",
            *checks,
            "",
        ]
        return "\n".join(out)
