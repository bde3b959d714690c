"""``rempart bench``: the incident replay bench, with a progress bar and a table."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rempart_bench.bench import (
    PLOT_NEEDS,
    BenchConfig,
    BenchResult,
    Stage,
    can_plot,
    markdown,
    run_bench,
    update_doc,
    write_report,
)

console = Console()


class RichStage(Stage):
    """Stages as Rich progress bars."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def start(self, name: str, total: int) -> None:
        """A new bar."""
        self.tasks[name] = int(self.progress.add_task(name, total=total))

    def advance(self, name: str, n: int = 1) -> None:
        """Move a bar."""
        self.progress.advance(self.tasks[name], n)  # type: ignore[arg-type]


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        mem = "unknown RAM"
    return f"{os.cpu_count()} cores ({cpu}), {mem}, Python {platform.python_version()}"


def table(result: BenchResult) -> Table:
    """The results as a Rich table."""
    t = Table(title="Incident replay bench")
    for col in ("scenario", "guard", "exposed", "requests until containment", "seconds", "alerts"):
        t.add_column(col, justify="left" if col in ("scenario", "guard") else "right")
    for o in result.scenarios:
        j = o.as_json()
        t.add_row(
            o.scenario,
            o.guard,
            str(j["exposed_persons"]),
            str(j["requests_until_containment"] or "not contained"),
            str(
                j["seconds_until_containment"]
                if j["seconds_until_containment"] is not None
                else "-"
            ),
            str(j["alerts"]),
        )
    return t


def bench(
    quick: bool = typer.Option(False, "--quick", help="Small population: under five minutes."),
    persons: int | None = typer.Option(None, "--persons", min=1000, help="People to generate."),
    seed: int = typer.Option(7, "--seed"),
    json_out: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    report: Path | None = typer.Option(
        None, "--report", help="Directory for summary.md and a plot."
    ),
    doc: Path | None = typer.Option(
        None, "--doc", help="Markdown file whose bench section is replaced (docs/benchmarks.md)."
    ),
) -> None:
    """Replay the known attacks against the real application, guard on, off and none."""
    if report and not can_plot():
        # Said before a run of many minutes, not after it.
        console.print(f"[red]--report:[/] {escape(PLOT_NEEDS)}")
        raise typer.Exit(2)
    cfg = BenchConfig.quick(persons) if quick else BenchConfig(persons=persons or 60_000)
    cfg = replace(cfg, seed=seed)
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        result = run_bench(cfg, RichStage(progress))
    console.print(table(result))
    legit = result.legit.as_json()
    console.print(
        f"legitimate workload: {legit['agent_days']} agent-days, "
        f"hard-blocked {legit['hard_blocked']} ({legit['hard_blocked_pct']} %), "
        f"step-ups {legit['step_ups']} ({legit['step_ups_pct']} %), "
        f"throttled {legit['throttled_agent_days']}"
    )
    document = result.as_json()
    document["machine"] = machine()
    if json_out:
        json_out.write_text(json.dumps(document, indent=2), encoding="utf-8")
    if report:
        write_report(result, report, machine())
        console.print(f"report in {report}")
    if doc:
        command = (
            "rempart bench"
            + (" --quick" if quick else "")
            + (f" --persons {persons}" if persons else "")
        )
        update_doc(doc, markdown(result, machine()), command)
        console.print(f"bench section of {doc} regenerated")
