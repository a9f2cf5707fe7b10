"""Recomputes the tag projection alone (`cdp tags apply`), from the facts kept in projection state.

Tags read only a customer's facts, which the projection state keeps (projections/tags/features.py),
so new tag rules reach all of history without reading the log: the tag tables are emptied, then
every customer's tags are replayed from their first event under the rules in force, as of the
tracked watermark, their rows written at the tracked position and their state saved, a chunk of
customers at a time. A full rebuild afterwards gives the same rows. It holds the runner's lock, so
no batch runs meanwhile (a runner in another process waits, then follows the new rules).

The new version is recorded before the recomputation: killed midway, the rules in force are the new
ones and `cdp projections rebuild tags` (or another apply) completes the tag tables.
"""

from collections import defaultdict

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.sqlite_batches import chunks
from projections.pipeline import Pipeline, Rules
from projections.tables import BY_PROJECTION

def ensure_settled(platform: Platform) -> None:
    """Refuses while a runner died writing a batch: its state is behind its rows until `cdp run` ends it."""
    if platform.state.unconfirmed_until() is not None:
        raise CdpError("the runner has a batch to finish first: run `cdp run`, then apply")


def retag(platform: Platform, rules: Rules) -> int:
    """Recomputes every customer's tags under ``rules`` (hold ``platform.runner.lock``); returns how many customers."""
    ensure_settled(platform)
    state, warehouse = platform.state, platform.warehouse
    position, watermark = state.tracked()
    for table in BY_PROJECTION["tags"]:
        warehouse.execute(f"TRUNCATE TABLE IF EXISTS `{warehouse.database}`.`{table.name}`")
    pipeline = Pipeline(rules)
    ids = state.profile_ids()
    for chunk in chunks(ids):
        profiles = state.load_profiles(chunk)
        rows: dict[str, list[dict]] = defaultdict(list)
        checks = {cid: pipeline.retag(profile, watermark, position, rows) for cid, profile in profiles.items()}
        for table, table_rows in rows.items():
            warehouse.insert(table, table_rows)
        state.save_retagged(profiles, checks)
    return len(ids)
