"""Projection throughput and tag-evaluation cost.

    python -m benchmarks.projections [--customers 10000] [--rules 1000]

Prints: events/s through all projections, pure (in memory, batches of 5,000, state encoded
as the runner keeps it, the cyclic GC paused as the runner pauses it) and end to end (`cdp run`: SQLite state store and chDB writes); the time
to compile the tag rules; and what evaluating 1,000 tag rules costs per customer.
"""

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from cdp.config import load_settings
from cdp.gc_pause import collector_paused
from cdp.platform import Platform
from cdp.workload import generate
from ingestion.jsonl import import_lines
from projections import state_codec
from projections.pipeline import Pipeline
from projections.replay import Replay
from projections.rules import ProjectionRules
from projections.tags.compiler import CompiledTags
from projections.tags.features import context
from projections.tags.builtin import rule_set
from projections.tags.rules import Condition, TagRule
from projections.touchpoint import Touchpoint
from projections.value import tier
from schemas import parse_envelope

BATCH = 5_000


def touchpoints(customers: int) -> list[Touchpoint]:
    out = []
    for position, event in enumerate(generate(customers), start=1):
        event["received_at"] = event["occurred_at"]
        out.append(Touchpoint(position, parse_envelope(event).model_dump(mode="json")))
    return out


def pure(tps: list[Touchpoint], rules: ProjectionRules) -> tuple[float, Replay]:
    replay = Replay(Pipeline(rules))
    started = time.perf_counter()
    with collector_paused():  # as the runner runs a batch
        replay.run(tps, BATCH)
    return time.perf_counter() - started, replay


def end_to_end(customers: int) -> tuple[int, float]:
    workdir = Path(tempfile.mkdtemp(prefix="cdp-bench-proj-"))
    try:
        with Platform(load_settings(data_dir=workdir)) as platform:
            import_lines((orjson.dumps(e) for e in generate(customers)), platform, "bench", BATCH)
            started = time.perf_counter()
            processed = platform.runner.run()
            return processed, time.perf_counter() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def random_rules(n: int, seed: int = 1) -> list[TagRule]:
    rng = random.Random(seed)
    numeric = [("orders", None, (1, 10)), ("revenue", 365, (50, 5000)), ("revenue", None, (50, 5000)), ("interactions", 30, (1, 20)),
               ("days_since_last_activity", None, (7, 365)), ("days_since_last_purchase", None, (7, 365)), ("last_nps", None, (0, 10)),
               ("events.page_viewed", 90, (1, 30)), ("events.product_viewed", 30, (1, 10)), ("tickets", 365, (1, 5)), ("complaints", 180, (1, 3))]
    exact = [("trait.gender", ["female", "male"]), ("trait.age_band", ["18-24", "25-34", "35-44", "45-54"]), ("trait.city", ["上海", "北京", "Shanghai"]),
             ("lifecycle_stage", ["new", "repeat", "loyal", "at_risk", "churned"]), ("tier", ["ordinary", "vip", "super"])]

    def condition() -> Condition:
        if rng.random() < 0.7:
            feature, window, (low, high) = rng.choice(numeric)
            return Condition(feature=feature, within_days=window, op=rng.choice([">=", ">", "<", "<="]), value=rng.randint(low, high))
        feature, values = rng.choice(exact)
        if rng.random() < 0.5:
            return Condition(feature=feature, op="==", value=rng.choice(values))
        return Condition(feature=feature, op="in", value=rng.sample(values, 2))

    return [TagRule(tag=f"rule_{i}", all=[condition() for _ in range(rng.randint(1, 3))]) for i in range(n)]


def tag_cost(replay: Replay, rules: ProjectionRules, tag_rules: list[TagRule]) -> dict:
    n_rules = len(tag_rules)
    started = time.perf_counter()
    compiled = CompiledTags(tag_rules)
    compile_seconds = time.perf_counter() - started
    tier_of = lambda r, a, n: tier(r, a, n, rules.value)  # noqa: E731
    profiles = [state_codec.decode(state) for state in list(replay.profiles.values())[:3000]]
    contexts = []
    for p in profiles:
        transitions = p["lifecycle"]["transitions"]
        contexts.append((context(p, [t[0] for t in transitions], [t[2] for t in transitions], rules.identity.joins, tier_of), p["last_seen"]))
    started = time.perf_counter()
    values = [compiled.features(ctx, t) for ctx, t in contexts]
    feature_seconds = time.perf_counter() - started
    started = time.perf_counter()
    held = sum(len(compiled.tags(v)) for v in values)
    rule_seconds = time.perf_counter() - started
    return {"rules": n_rules, "features": len(compiled.keys), "customers": len(contexts), "compile_s": compile_seconds,
            "features_us": 1e6 * feature_seconds / len(contexts), "rules_us": 1e6 * rule_seconds / len(contexts), "tags_held": held / len(contexts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=1_000)
    args = parser.parse_args()
    rules = ProjectionRules()
    tps = touchpoints(args.customers)
    seconds, replay = pure(tps, rules)
    print(f"workload: cdp.workload.generate({args.customers:,}) = {len(tps):,} events, {len(replay.profiles):,} customers")
    print(f"projections, pure (all of them, in memory, batches of {BATCH:,}): {len(tps) / seconds:,.0f} events/s ({seconds:.1f} s)")
    processed, seconds = end_to_end(args.customers)
    print(f"projections, end to end (cdp run: state store + chDB): {processed / seconds:,.0f} events/s ({seconds:.1f} s)")
    for label, tag_rules in (("built-in", rule_set(rules.tags, rules.lifecycle)), ("random", random_rules(args.rules))):
        cost = tag_cost(replay, rules, tag_rules)
        print(f"tag rules ({label}): {cost['rules']:,} rules reading {cost['features']} features, compiled in {cost['compile_s'] * 1000:.0f} ms; "
              f"per customer and moment: features {cost['features_us']:.1f} µs + rules {cost['rules_us']:.1f} µs "
              f"({1000 * cost['rules_us'] / cost['rules']:.0f} ns per rule), {cost['tags_held']:.1f} tags held on average")


if __name__ == "__main__":
    main()
