"""infra/docker-compose.yml cannot run here (no Docker daemon), so it is read: every cdp service's
``Settings`` resolved from its environment, and the broker's settings checked against what the
code needs (issue 24), so the file cannot drift from the code unseen."""

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from cdp.config import Settings, load_settings
from cdp.scaleout import messages

INFRA = Path(__file__).resolve().parent.parent / "infra"
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
CLICKHOUSE_DEFAULT_PARTS = {"parts_to_delay_insert": 1000, "parts_to_throw_insert": 3000}  # the server's defaults


def interpolated(value: str) -> str:
    """Compose's ``${NAME:-default}`` as on a host that sets none of them (a first trial)."""
    return _VARIABLE.sub(lambda match: match.group(2) or "", value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((INFRA / "docker-compose.yml").read_text())


def cdp_services(compose: dict) -> dict[str, dict]:
    return {name: service for name, service in compose["services"].items() if service.get("image") == "cdp:latest"}


def environment(service: dict) -> dict[str, str]:
    return {name: str(interpolated(value)) for name, value in service["environment"].items()}


def resolved(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    with monkeypatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CDP_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        return load_settings()


def field_value(settings: Settings, variable: str) -> str:
    value = settings
    for part in variable.removeprefix("CDP_").lower().split("__"):
        value = getattr(value, part)  # an AttributeError names a variable no setting reads
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


def test_every_cdp_service_resolves_its_settings_from_its_environment(compose: dict, monkeypatch: pytest.MonkeyPatch):
    services = cdp_services(compose)
    assert set(services) == {"collector", "relay", "worker"}
    for name, service in services.items():
        env = environment(service)
        settings = resolved(env, monkeypatch)
        for variable, value in env.items():
            assert field_value(settings, variable) == value, f"{name}: {variable} does not reach its setting"
        assert settings.event_store.backend == "postgres" and settings.warehouse.backend == "clickhouse", name
        assert settings.warehouse.host == "clickhouse" and settings.kafka.bootstrap_servers == "kafka:9092", name
        assert settings.privacy.master_key is None, f"{name}: a master key in the repository; the first start generates one in /data"
        assert not any("MASTER_KEY" in variable for variable in env), name
        assert any(volume.endswith(f":{settings.data_dir}") for volume in service["volumes"]), f"{name}: the data directory (key store) is not on the shared volume"
    assert services["relay"]["command"] == ["relay", "--follow"]
    assert services["worker"]["deploy"]["replicas"] <= resolved(environment(services["worker"]), monkeypatch).kafka.partitions


def test_kafka_keeps_its_data_creates_no_topic_itself_and_takes_the_largest_message(compose: dict):
    kafka = compose["services"]["kafka"]
    env = {name: str(value) for name, value in kafka["environment"].items()}
    mounts = [volume.split(":")[1] for volume in kafka["volumes"] if volume.split(":")[0] in compose["volumes"]]
    assert env["KAFKA_LOG_DIRS"] in mounts, "Kafka's log dirs are not on a named volume: a recreated container loses every topic and offset"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= messages.MAX_REQUEST_BYTES
    assert int(env["KAFKA_REPLICA_FETCH_MAX_BYTES"]) >= messages.MAX_REQUEST_BYTES


def test_clickhouse_merge_thresholds_are_not_below_the_server_defaults(compose: dict):
    mounted = [volume.split(":")[0] for volume in compose["services"]["clickhouse"]["volumes"] if volume.startswith("./")]
    assert mounted == ["./clickhouse/cdp.xml"]
    for path in mounted:
        merge_tree = ET.parse(INFRA / path).getroot().find("merge_tree")
        for name, default in CLICKHOUSE_DEFAULT_PARTS.items():
            setting = merge_tree.find(name) if merge_tree is not None else None
            assert setting is None or int(setting.text) >= default, f"{path}: {name} below the server's default {default}"


def test_no_secret_has_a_default_but_the_trial_passwords(compose: dict):
    text = (INFRA / "docker-compose.yml").read_text()
    defaults = {match.group(1) for match in _VARIABLE.finditer(text) if match.group(2)}
    assert defaults == {"CDP_POSTGRES_PASSWORD", "CDP_CLICKHOUSE_PASSWORD"}  # changed after the first start: docs/operations.md, "Secrets"
