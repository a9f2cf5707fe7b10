"""Online backup: how long `cdp backup` takes on a big event store, how big the backup is, and what
a concurrent writer's ingest throughput is before, during and after the copy.

The writer is its own process running the `cdp ingest` path (parse, validate, durable append in
batches) on fresh events; its throughput in the seconds before the backup is the baseline.

    python -m benchmarks.backup [--events 1000000] [--workdir DIR] [--settle 5]
"""

import argparse
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from benchmarks import stages
from cdp.backup.erasures import ErasureJournal
from cdp.backup.restore import restore_backup
from cdp.backup.take import take_backup
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.workload import generate_events
from ingestion.jsonl import import_lines

WRITER_BATCH = 500


def writer(data_dir: Path, ready, stop, timings) -> None:
    """Appends fresh events until told to stop; sends one ``(end time, events)`` pair per batch."""
    lines = [orjson.dumps(e) for e in generate_events(50_000, seed=4242)]
    with Platform(load_settings(config_file=None, data_dir=data_dir)) as platform:
        ready.set()
        round_ = 0
        while not stop.is_set():
            round_ += 1
            tag = b'"message_id":"w%d-' % round_  # new message ids each round: every append stores
            for start in range(0, len(lines), WRITER_BATCH):
                if stop.is_set():
                    break
                batch = [line.replace(b'"message_id":"', tag, 1) for line in lines[start : start + WRITER_BATCH]]
                report = import_lines(batch, platform, "writer", WRITER_BATCH)
                timings.put((time.perf_counter(), report.stored))


def rate(samples: list[tuple[float, int]], start: float, end: float) -> float:
    events = sum(n for t, n in samples if start < t <= end)
    return events / (end - start) if end > start else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, help="keep the workload and the data here (default: a temporary directory)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of writing measured before and after the backup")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cdp-backup-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data"
    if not (data / "events.sqlite").is_file():
        if not (workdir / stages.WORKLOAD).is_file():
            print(f"generating {args.events:,} events ...", flush=True)
            stages.workload(workdir, args.events)
        print("ingesting ...", flush=True)
        stages.ingest(workdir)
    settings = load_settings(config_file=None, data_dir=data)

    context = multiprocessing.get_context("spawn")
    ready, stop, timings = context.Event(), context.Event(), context.Queue()
    process = context.Process(target=writer, args=(data, ready, stop, timings))
    process.start()
    ready.wait(300)
    time.sleep(1)  # past the writer's first batches
    before = time.perf_counter()
    time.sleep(args.settle)
    target = workdir / "backup"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    manifest = take_backup(settings, target)
    ended = time.perf_counter()
    time.sleep(args.settle)
    after = time.perf_counter()
    stop.set()
    samples = []
    while process.is_alive() or not timings.empty():
        try:
            samples.append(timings.get(timeout=1))
        except Exception:  # queue.Empty once the writer has gone
            if not process.is_alive():
                break
    process.join(60)

    restored = workdir / "restored"
    shutil.rmtree(restored, ignore_errors=True)
    restore_started = time.perf_counter()
    restore_backup(target, restored, ErasureJournal(workdir / "no-erasures.jsonl"))
    restore_seconds = time.perf_counter() - restore_started

    size = sum(f.size for f in manifest.files)
    seconds = ended - started
    gaps = [b - a for (a, _), (b, _) in zip(samples, samples[1:]) if started <= b <= ended + 1]
    events_file = next(f for f in manifest.files if f.name == "events.sqlite")
    print(f"event store            {manifest.event_store.last_position:,} events, {events_file.size / 1e6:,.0f} MB in the backup")
    print(f"backup                 {seconds:.1f} s, {size / 1e6:,.0f} MB in {len(manifest.files)} files ({size / 1e6 / seconds:,.0f} MB/s, SHA-256 included)")
    print(f"restore (no rebuild)   {restore_seconds:.1f} s (verify + copy)")
    print(f"writer before backup   {rate(samples, before, started):,.0f} events/s")
    print(f"writer during backup   {rate(samples, started, ended):,.0f} events/s")
    print(f"writer after backup    {rate(samples, ended, after):,.0f} events/s")
    print(f"longest writer batch gap during backup  {max(gaps, default=0) * 1000:,.0f} ms (batches of {WRITER_BATCH})")
    shutil.rmtree(restored, ignore_errors=True)


if __name__ == "__main__":
    main()
