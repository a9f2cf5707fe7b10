"""`cdp projections rebuild [NAME...]`: recompute projections from the first event.

The projection state and the tracked position are reset, the named projections' warehouse tables
are emptied, and the runner replays the whole log, writing only those tables (all of them when no
name is given). This is how a configuration change (an identity block list that undoes a wrong
merge, new tag rules, other thresholds) reaches history. Identity decides every customer id, so
after an identity change rebuild everything.
"""

from collections.abc import Callable

from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.runner import EmbeddedRunner, Progress
from projections.tables import BY_PROJECTION


def rebuild(platform: Platform, names: list[str], on_progress: Callable[[Progress], None] = lambda p: None) -> int:
    unknown = sorted(set(names) - BY_PROJECTION.keys())
    if unknown:
        raise CdpError(f"unknown projection {', '.join(unknown)}; known: {', '.join(BY_PROJECTION)}")
    tables = {t.name for name in (names or BY_PROJECTION) for t in BY_PROJECTION[name]}
    warehouse = platform.warehouse
    for table in sorted(tables):
        warehouse.execute(f"TRUNCATE TABLE IF EXISTS `{warehouse.database}`.`{table}`")
    platform.state.reset()
    settings = platform.settings
    runner = EmbeddedRunner(platform.events, platform.state, warehouse, settings, settings.batch_size, tables=None if not names else tables)
    return runner.run(on_progress=on_progress)
