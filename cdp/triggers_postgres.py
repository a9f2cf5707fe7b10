"""Which trigger rules are enabled, in PostgreSQL: ``cdp.triggers.TriggerStore`` for the scale-out
deployment, in the database its state uses, so ``cdp triggers enable`` run anywhere reaches every
worker (each reads the enabled set at every batch, docs/triggers.md)."""


from cdp.config import PostgresSettings
from cdp.postgres import connect
from cdp.triggers import Enabled, enabling

_SCHEMA = "CREATE TABLE IF NOT EXISTS trigger_enabled (name TEXT PRIMARY KEY, start BIGINT NOT NULL, enabled_at BIGINT NOT NULL, backfill BOOLEAN NOT NULL)"
_SCHEMA_LOCK = 0x63647054  # advisory lock: concurrent first starts create the table once


class PostgresTriggerStore:
    def __init__(self, settings: PostgresSettings):
        self._db = connect(settings, _SCHEMA, _SCHEMA_LOCK)

    def enable(self, name: str, start: int, enabled_at: int) -> Enabled:
        """Enables ``name`` from ``start`` (``cdp.triggers.enabling``); an enabled trigger's row is locked meanwhile, so two enabling it again at once keep the earlier start."""
        with self._db.transaction():
            wanted = enabling(self._get(name, lock=True), name, start, enabled_at)
            self._db.execute(
                "INSERT INTO trigger_enabled (name, start, enabled_at, backfill) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET start = EXCLUDED.start, enabled_at = EXCLUDED.enabled_at, backfill = EXCLUDED.backfill",
                (name, wanted.start, wanted.enabled_at, wanted.backfill),
            )
        return wanted

    def disable(self, name: str) -> bool:
        return self._db.execute("DELETE FROM trigger_enabled WHERE name = %s", (name,)).rowcount > 0

    def get(self, name: str) -> Enabled | None:
        return self._get(name, lock=False)

    def all(self) -> dict[str, Enabled]:
        return {row[0]: Enabled(*row) for row in self._db.execute("SELECT name, start, enabled_at, backfill FROM trigger_enabled ORDER BY name")}

    def close(self) -> None:
        self._db.close()

    def _get(self, name: str, lock: bool) -> Enabled | None:
        row = self._db.execute(f"SELECT name, start, enabled_at, backfill FROM trigger_enabled WHERE name = %s{' FOR UPDATE' if lock else ''}", (name,)).fetchone()
        return Enabled(*row) if row else None
