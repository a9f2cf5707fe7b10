"""Who would gain and who would lose each tag a change touches (`cdp tags dry-run`), computed from
the facts in projection state with nothing written.

Only the rules that differ are evaluated, under the rules in force and under the proposed ones,
for every customer: as of the tracked watermark ("now", the time the tag tables are computed as of)
and at the end of each of the last months (how the change would have read over time). Customers
are taken in id order, so the sample is the same from one run to the next.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cdp.sqlite_batches import chunks
from cdp.statestore import StateStore
from projections.pipeline import Pipeline, Rules
from projections.tables.profiles import from_ms
from projections.tags.compiler import CompiledTags
from projections.tags.definitions import changed_rules
from projections.tags.rules import TagRules

MONTHS = 12


@dataclass
class Shift:
    """One tag at one moment: how many hold it under each rule set, who would gain and lose it."""

    before: int = 0
    after: int = 0
    gained: int = 0
    lost: int = 0
    gain_sample: list[str] = field(default_factory=list)  # customer ids, for "now" only
    lose_sample: list[str] = field(default_factory=list)


def month_ends(as_of: int, months: int = MONTHS) -> list[int]:
    """The last millisecond of each of the ``months`` months before ``as_of``'s own, oldest first."""
    moment = datetime.fromtimestamp(as_of / 1000, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ends = []
    for _ in range(months):
        ends.append(int(moment.timestamp() * 1000) - 1)
        moment = moment.replace(year=moment.year - (moment.month == 1), month=(moment.month - 2) % 12 + 1)
    return ends[::-1]


def compare(state: StateStore, rules: Rules, proposed: TagRules, sample: int) -> dict:
    """The dry run of ``proposed`` against ``rules.tags`` (the rules in force)."""
    before_rules, after_rules = changed_rules(rules.tags, proposed, rules.lifecycle)
    before, after = CompiledTags(before_rules), CompiledTags(after_rules)
    tags = [rule.tag for rule in after_rules]
    as_of = state.tracked()[1]
    moments = [*month_ends(as_of), as_of] if as_of else []
    shifts = {tag: [Shift() for _ in moments] for tag in tags}
    samples: dict[str, dict] = {}
    pipeline = Pipeline(rules)
    customers = 0
    for chunk in chunks(state.profile_ids()):
        for cid, profile in state.load_profiles(chunk).items():
            customers += 1
            if profile["first_seen"] is None:
                continue
            ctx = pipeline.tag_context(profile)
            for i, t in enumerate(moments):
                if t < profile["first_seen"]:
                    continue
                held_before, held_after = set(before.tags(before.features(ctx, t))), set(after.tags(after.features(ctx, t)))
                for tag in tags:
                    was, will = tag in held_before, tag in held_after
                    shift = shifts[tag][i]
                    shift.before += was
                    shift.after += will
                    if was == will:
                        continue
                    shift.gained += will
                    shift.lost += was
                    chosen = shift.gain_sample if will else shift.lose_sample
                    if i == len(moments) - 1 and len(chosen) < sample:
                        chosen.append(cid)
                        samples[cid] = {"customer_id": cid, "emails": sorted(k.split(":", 1)[1] for k in profile["id_seen"] if k.startswith("email:"))}
    old = {rule.tag: rule for rule in before_rules}
    return {
        "as_of": from_ms(as_of).isoformat(timespec="milliseconds").replace("+00:00", "Z") if as_of else None,
        "customers": customers,
        "tags": [
            {
                "tag": rule.tag,
                "change": "changed" if rule.tag in old else "new",
                "before": old[rule.tag].model_dump(mode="json", exclude_defaults=True) if rule.tag in old else None,
                "after": rule.model_dump(mode="json", exclude_defaults=True),
                "now": _now(shifts[rule.tag][-1], samples) if moments else None,
                "months": [_month(t, s) for t, s in zip(moments[:-1], shifts[rule.tag][:-1], strict=True)],
            }
            for rule in after_rules
        ],
    }


def _now(shift: Shift, samples: dict[str, dict]) -> dict:
    return {
        "holders_before": shift.before, "holders_after": shift.after, "gain": shift.gained, "lose": shift.lost,
        "gain_sample": [samples[c] for c in shift.gain_sample], "lose_sample": [samples[c] for c in shift.lose_sample],
    }  # fmt: skip


def _month(t: int, shift: Shift) -> dict:
    return {"month": from_ms(t).strftime("%Y-%m"), "holders_before": shift.before, "holders_after": shift.after, "gain": shift.gained, "lose": shift.lost}
