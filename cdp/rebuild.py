"""`cdp projections rebuild [NAME...]`: recompute projections from the first event.

The projection state and the tracked position are reset, the named projections' warehouse tables
are emptied, and the runner replays the whole log, writing only those tables (all of them when no
name is given). This is how a configuration change (an identity block list that undoes a wrong
merge, new tag rules, other thresholds) reaches history. Identity decides every customer id, so
after an identity change rebuild everything.

Quarantined events are tried again: the quarantine is emptied with the state, and the replay
quarantines again every event that still fails. Given the code and configuration this is
deterministic, so a rebuild skips exactly the events that incremental processing skipped (unless a
fix since lets some through); `cdp projections rebuild` says how many.
"""

from collections.abc import Callable
from contextlib import closing

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.runner import EmbeddedRunner, Progress
from cdp.warehouse.views import customer_days, customer_products, daily_events, daily_sales, survivors
from projections.tables import BY_PROJECTION, customer_merges, events

# kept from events by materialized views: emptied with events, refilled as the replay rewrites them
# (customer_days and customer_products are keyed by customer ids, which an identity change can alter)
EVENT_ROLLUPS = (daily_events.ROLLUP, daily_sales.ROLLUP, customer_days.ROLLUP, customer_products.ROLLUP)


def rebuild(platform: Platform, names: list[str], on_progress: Callable[[Progress], None] = lambda p: None) -> int:
    unknown = sorted(set(names) - BY_PROJECTION.keys())
    if unknown:
        raise CdpError(f"unknown projection {', '.join(unknown)}; known: {', '.join(BY_PROJECTION)}")
    tables = {t.name for name in (names or BY_PROJECTION) for t in BY_PROJECTION[name]}
    if events.TABLE.name in tables:
        tables |= {rollup.state_table for rollup in EVENT_ROLLUPS}
    if customer_merges.TABLE.name in tables:
        tables.add(survivors.NAME)  # kept from customer_merges by a materialized view, as the rollups from events
    warehouse, settings = platform.warehouse, platform.settings
    runner = EmbeddedRunner(
        platform.events, platform.state, warehouse, platform.configured_rules, settings.batch_size, platform.quarantine, tables=None if not names else tables,
        tag_definitions=platform.tag_definitions,
        triggers=platform.enabled_triggers, sink=platform.action_sink,  # the same action ids again: the outbox keeps one of each
        processes=platform.runner_processes(),
    )
    with closing(runner), runner.lock:  # a runner following the log elsewhere (`cdp serve`) waits for the whole rebuild
        for table in sorted(tables):
            warehouse.execute(f"TRUNCATE TABLE IF EXISTS `{warehouse.database}`.`{table}`")
        platform.state.reset()
        platform.quarantine.clear()
        return runner.run(on_progress=on_progress)
