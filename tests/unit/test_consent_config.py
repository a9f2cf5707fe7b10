from pathlib import Path

import pytest

from cdp.config import load_settings
from cdp.errors import ConfigError
from schemas.payloads.consent import PURPOSES


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("CDP_DATA_DIR", "CDP_CONFIG", "CDP_CONSENT__DEFAULTS__ANALYTICS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_marketing_is_opt_in_by_default():
    consent = load_settings().consent
    assert {p: consent.granted_without_decision(p) for p in PURPOSES} == {p: p == "analytics" for p in PURPOSES}


def test_defaults_come_from_the_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "cdp.toml"
    config.write_text("[consent.defaults]\npersonalisation = true\n")
    consent = load_settings(config).consent
    assert consent.granted_without_decision("personalisation") and not consent.granted_without_decision("email_marketing")
    monkeypatch.setenv("CDP_CONSENT__DEFAULTS__ANALYTICS", "false")
    assert not load_settings(config).consent.granted_without_decision("analytics")


def test_an_unknown_purpose_is_named(tmp_path: Path):
    config = tmp_path / "cdp.toml"
    config.write_text("[consent.defaults]\ncarrier_pigeon = true\n")
    with pytest.raises(ConfigError, match=r"consent.defaults.carrier_pigeon: Extra inputs are not permitted"):
        load_settings(config)
