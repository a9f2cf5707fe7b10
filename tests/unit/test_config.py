"""Settings: defaults from docs/domain.md, then file, then environment, then command line."""

from pathlib import Path

import pytest

from cdp.config import load_settings
from cdp.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_BATCH_SIZE", "CDP_LIFECYCLE__CHURN_INACTIVE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_domain():
    settings = load_settings()
    assert settings.data_dir == Path(".cdp")
    assert settings.event_store.backend == "sqlite" and settings.warehouse.backend == "embedded"
    life = settings.lifecycle
    assert (life.loyal_min_purchases, life.loyal_window_days, life.at_risk_default_days, life.churn_inactive_days, life.complaint_sla_hours) == (4, 365, 90, 180, 24)


def test_file_then_environment_then_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "cdp.toml"
    config.write_text("batch_size = 5\n[lifecycle]\nchurn_inactive_days = 100\nat_risk_default_days = 60\n")
    assert load_settings(config).lifecycle.churn_inactive_days == 100
    monkeypatch.setenv("CDP_LIFECYCLE__CHURN_INACTIVE_DAYS", "7")
    settings = load_settings(config, batch_size=9)
    assert (settings.lifecycle.churn_inactive_days, settings.lifecycle.at_risk_default_days, settings.batch_size) == (7, 60, 9)


def test_the_data_directory_holds_the_default_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "cdp.toml").write_text("batch_size = 3\n")
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().batch_size == 3
    assert load_settings(data_dir=tmp_path / "nowhere").batch_size == 60_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[lifecycle]\nbogus = 1\n", "lifecycle.bogus: Extra inputs are not permitted"),
        ("[lifecycle]\nchurn_inactive_days = -1\n", "lifecycle.churn_inactive_days: Input should be greater than 0"),
        ("batch_size = \n", "cannot read"),
        ("[event_store]\nbackend = 'oracle'\n", "event_store.backend: Input should be 'sqlite' or 'postgres'"),
    ],
)
def test_bad_configuration_names_the_field(tmp_path: Path, text: str, message: str):
    config = tmp_path / "cdp.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        load_settings(config)
