"""Processes opening a new PostgreSQL event store at the same moment (the compose deployment's
collector and relay on their first start) all open it: the tables are created once, under an
advisory lock, where concurrent ``CREATE TABLE IF NOT EXISTS`` failed in all sessions but one."""

import threading
from pathlib import Path

from cdp.config import Settings
from cdp.eventstore import open_event_store
from tests.integration.scaleout_harness import fresh_database
from tests.services.postgres import PostgresServer

OPENERS = 8


def test_processes_opening_a_new_event_store_together_all_open_it(postgres: PostgresServer, tmp_path: Path):
    pg = fresh_database(postgres, "first_start")
    settings = Settings(data_dir=tmp_path, event_store={"backend": "postgres", "postgres": {"host": pg.host, "port": pg.port, "dbname": pg.dbname, "user": pg.user, "password": pg.password}})
    together = threading.Barrier(OPENERS)
    failures: list[Exception] = []

    def open_at_once() -> None:
        together.wait()
        try:
            open_event_store(settings).close()
        except Exception as error:
            failures.append(error)

    openers = [threading.Thread(target=open_at_once) for _ in range(OPENERS)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join()
    assert failures == []
