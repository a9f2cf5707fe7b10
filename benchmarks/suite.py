"""The benchmark suite: every stage on the same generated workload, measured against the floor.

    python -m benchmarks.suite [--events 1000000] [--workdir DIR] [--stages floor,ingest,...] [--processes N]

Each stage runs in its own process (so its peak RSS is its own) and prints one figure per line
with its unit; throughput stages are also given as a ratio to the floor (the same events loaded
straight into chDB with one JSONEachRow insert), so figures compare across machines.
``--processes N``: the process and rebuild stages run with ``runner.processes = N`` (their CPU is
then given per process: the runner's and each projection process's). The load average is printed
with every figure: on a shared machine, compare runs made in turn.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ORDER = ("floor", "ingest", "read", "process", "rebuild", "warehouse_load", "freshness", "queries")


def run_stage(stage: str, workdir: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[dict, float]:
    """Runs a stage in a child process; returns its figures and the child's peak RSS in MiB."""
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.stages", stage, str(workdir), *extra], stdout=subprocess.PIPE, env=env)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"stage {stage} failed with exit code {child.returncode}")
    return orjson.loads(output), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, help="events of the workload (default: those of WORKDIR's, or 1,000,000)")
    parser.add_argument("--workdir", type=Path, help="keep the generated workload and data here (default: a temporary directory)")
    parser.add_argument("--stages", default=",".join(ORDER), help=f"comma-separated subset of {','.join(ORDER)}")
    parser.add_argument("--processes", type=int, default=1, help="runner.processes of the process and rebuild stages (default 1)")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    unknown = set(stages) - set(ORDER)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
        kept = sum(1 for _ in (workdir / "events.jsonl").open("rb")) if (workdir / "events.jsonl").exists() else None
        if kept is not None and args.events in (None, kept):  # a workdir's workload is kept unless other --events are asked for
            print(f"workload: {kept:,} events, kept from {workdir}")
        else:
            events = args.events or 1_000_000
            figures, rss = run_stage("workload", workdir, str(events))
            print(f"workload: {events:,} events, {figures['bytes'] / 2**20:,.0f} MiB of JSON Lines")
        floor_rate = None
        runner_env = {**os.environ, "CDP_RUNNER__PROCESSES": str(args.processes)}
        for stage in stages:
            figures, rss = run_stage(stage, workdir, env=runner_env if stage in ("process", "rebuild") else None)
            floor_rate = report(stage, figures, floor_rate)
            print(f"{stage} peak RSS: {rss:,.0f} MiB")


def cpu_line(label: str, f: dict) -> None:
    """CPU time per event of the runner's process, of each projection process (``--processes``) and
    of the managed warehouse server: unlike events/s, it hardly depends on what else the machine runs."""
    per_event = lambda seconds: f"{1e6 * seconds / f['events']:.0f} µs"  # noqa: E731
    print(f"{label} CPU per event (runner process): {per_event(f['cpu_seconds'])}")
    children = f.get("processes_cpu_seconds") or []
    if children:
        print(f"{label} CPU per event (projection processes): {', '.join(map(per_event, children))}")
    server = f["server_cpu_seconds"]
    print(f"{label} CPU per event (warehouse server): {per_event(server)}; all processes {per_event(f['cpu_seconds'] + sum(children) + server)}")
    work = f["server_work"]
    if work["rows inserted"]:
        merging = work["merge thread µs"] / 1e6
        print(
            f"{label} warehouse server: {work['inserts']:,} inserts of {work['rows inserted']:,} rows; {work['merges']:,} merges of {work['rows merged']:,} rows "
            f"({work['rows merged'] / work['rows inserted']:.1f} per row inserted), {merging:.1f} s in merge threads ({per_event(merging)} per event)"
        )
    print(f"{label} machine busy: {f['machine_busy_seconds'] / f['seconds']:.2f} of {os.cpu_count()} cores ({per_event(f['machine_busy_seconds'])} per event, whatever ran)")


def report(stage: str, f: dict, floor_rate: float | None) -> float | None:
    def rate_line(label: str, count: int, unit: str) -> float:
        rate = count / f["seconds"]
        ratio = f" ({rate / floor_rate:.3f} × floor)" if floor_rate else ""
        load = " ".join(f"{n:.2f}" for n in os.getloadavg())
        print(f"{label}: {rate:,.0f} {unit}{ratio}  [{count:,} in {f['seconds']:.2f} s; load {load}]")
        return rate

    if stage == "floor":
        return rate_line("floor (raw JSONEachRow into chDB)", f["events"], "events/s")
    if stage == "ingest":
        rate_line("ingest (validated, durable)", f["events"], "events/s")
    elif stage == "read":
        rate_line("reading the log (as the runner, in batches)", f["events"], "events/s")
        print(f"reading CPU per event: {1e6 * f['cpu_seconds'] / f['events']:.1f} µs")
    elif stage == "process":
        rate_line("projection (all projections → warehouse)", f["events"], "events/s")
        cpu_line("projection", f)
    elif stage == "rebuild":
        rate_line("rebuild from the first event", f["events"], "events/s")
        cpu_line("rebuild", f)
        print(f"rebuild time: {f['seconds']:.1f} s for {f['events']:,} events")
    elif stage == "warehouse_load":
        rate_line("warehouse load (events rows)", f["rows"], "rows/s")
    elif stage == "freshness":
        print(f"freshness accepted → visible p50: {f['p50_ms']:.0f} ms  [{f['events']:,} events]")
        print(f"freshness accepted → visible p99: {f['p99_ms']:.0f} ms")
    elif stage == "queries":
        profiles = f.pop("profiles")
        for name, ms in f.items():
            print(f"query {name}: {ms:.0f} ms  [{profiles:,} profiles]")
    return floor_rate


if __name__ == "__main__":
    main()
