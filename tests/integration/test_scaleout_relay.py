"""Only one relay runs on an event store: identity resolution needs the log's total order."""

from cdp.config import PostgresSettings, load_settings
from cdp.scaleout.state import RelayState, connect
from tests.services.postgres import PostgresServer


def test_a_second_relay_is_refused_until_the_first_is_gone(postgres: PostgresServer):
    settings = PostgresSettings(host=postgres.host, port=postgres.port, dbname=postgres.dbname, user=postgres.user, password=postgres.password)
    first = connect(settings)
    assert RelayState(first).claim()
    second = connect(settings)
    assert not RelayState(second).claim()
    first.close()  # a relay that dies (even SIGKILLed) drops its connection, and the lock with it
    assert RelayState(second).claim()
    second.close()


def test_forgetting_refuses_a_scale_out_deployment_instead_of_leaving_its_state(postgres: PostgresServer, tmp_path):
    """The relay's identity graph and the workers' profiles in PostgreSQL hold personal data that forget does not erase yet."""
    import pytest

    from cdp.errors import CdpError
    from cdp.platform import Platform
    from cdp.privacy.forget import forget
    from cdp.scaleout.state import relay_has_run
    from tests.integration.scaleout_harness import fresh_database

    server = fresh_database(postgres, "forget")
    pg = PostgresSettings(host=server.host, port=server.port, dbname=server.dbname, user=server.user, password=server.password)
    assert not relay_has_run(pg)  # no tables yet
    db = connect(pg)
    assert not relay_has_run(pg)  # tables, no relay position
    db.execute("INSERT INTO scaleout_relay (name, position, watermark) VALUES ('relay', 1, 0)")
    db.commit()
    db.close()
    assert relay_has_run(pg)
    settings = load_settings(data_dir=tmp_path / "data", event_store={"backend": "postgres", "postgres": pg.model_dump()})
    with Platform(settings) as platform, pytest.raises(CdpError, match="scale-out deployment .* not built yet"):
        forget(platform, "ann@example.com", "cli:test")
