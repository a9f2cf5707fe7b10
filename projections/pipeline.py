"""One batch through every projection: pure, so any runner (embedded, faust) gives the same rows.

The runner loads state, calls ``identity.resolve`` then ``project``, writes ``Output.rows`` to the
warehouse, and saves ``Output``'s state changes with the batch's log position in one transaction.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from projections.profile import Profile, absorb, apply, empty_profile, lifecycle_facts
from projections.identity import Resolution
from projections.lifecycle import LifecycleRules, lifecycle
from projections.tables import customer_merges, events, identities, lifecycle_transitions
from projections.tables import profiles as profile_table
from projections.touchpoint import Touchpoint


@dataclass
class Output:
    profiles: dict[str, Profile] = field(default_factory=dict)  # changed states, to save
    removed: set[str] = field(default_factory=set)  # customers merged away, to delete
    next_checks: dict[str, int | None] = field(default_factory=dict)  # when to re-evaluate each customer
    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))  # table name → rows


def project(
    loaded: dict[str, Profile],
    resolution: Resolution,
    touchpoints: list[Touchpoint],
    recheck: set[str],
    as_of: int,
    version: int,
    rules: LifecycleRules,
) -> Output:
    """Applies a resolved batch to the loaded profiles.

    ``loaded`` holds the saved state of every customer the batch names (assigned, merged) and of
    ``recheck``, the customers whose stage may have changed with time up to ``as_of`` (ms).
    ``version`` is the log position of the batch's last event.
    """
    out = Output()
    rows = out.rows
    state = dict(loaded)

    def profile_of(customer: str) -> Profile:
        if customer not in state:
            state[customer] = empty_profile(customer)
        return state[customer]

    for merge in resolution.merges:
        survivor = profile_of(merge.survivor)
        absorbed = state.pop(merge.absorbed, None)
        if absorbed is not None:
            absorb(survivor, absorbed)
            rows[lifecycle_transitions.TABLE.name].extend(
                lifecycle_transitions.row(merge.absorbed, t, version, deleted=True) for t in absorbed["lifecycle"]["transitions"]
            )
        out.removed.add(merge.absorbed)
        rows[profile_table.TABLE.name].append(profile_table.tombstone(merge.absorbed, merge.survivor, version))
        rows[customer_merges.TABLE.name].append(customer_merges.row(merge))

    for tp in touchpoints:
        customer = resolution.assignments[tp.position]
        apply(profile_of(customer), tp)
        rows[events.TABLE.name].append(events.row(tp, customer))

    rows[identities.TABLE.name].extend(
        identities.row(key, customer, position) for key, (customer, position) in resolution.changed_keys.items()
    )

    changed = {resolution.assignments[tp.position] for tp in touchpoints} | {m.survivor for m in resolution.merges}
    for customer in sorted((changed | (recheck & state.keys())) - out.removed):
        profile = state[customer]
        out.next_checks[customer] = _update_lifecycle(profile, as_of, version, rules, rows)
        rows[profile_table.TABLE.name].append(profile_table.row(profile, version, as_of))
        out.profiles[customer] = profile
    return out


def _update_lifecycle(profile: Profile, as_of: int, version: int, rules: LifecycleRules, rows: dict) -> int | None:
    result = lifecycle(lifecycle_facts(profile), as_of, rules)
    before = {lifecycle_transitions.key(t): t for t in profile["lifecycle"]["transitions"]}
    after = {lifecycle_transitions.key(t): t for t in map(lifecycle_transitions.encode, result.transitions)}
    customer = profile["customer_id"]
    table = rows[lifecycle_transitions.TABLE.name]
    table.extend(lifecycle_transitions.row(customer, t, version, deleted=True) for k, t in before.items() if k not in after)
    table.extend(lifecycle_transitions.row(customer, t, version) for k, t in after.items() if before.get(k) != t)
    profile["lifecycle"] = {"stage": result.stage, "since": result.since, "cause": result.cause, "transitions": list(after.values())}
    return result.next_check

