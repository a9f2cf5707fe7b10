"""Canonical trait values (projections.trait_values) in the profile, by hand.

The demo writes a city as "Shanghai" or "上海" (cdp.workload.CN_CITIES); customers also type
"shanghai shi" and "上海市". With the default rules all four are 上海 (the shipped table's short
simplified-Chinese name), "Beijing" is 北京, and "Female" is female. Five customers: four in
上海, one in 北京; a count by city gives {上海: 4, 北京: 1}, where it gave four cities before.
A configured synonym applies to every event once the projection is rebuilt.
"""

import orjson
import pytest

from cdp.config import load_settings
from cdp.customers import Customers
from cdp.platform import Platform
from cdp.rebuild import rebuild
from ingestion.jsonl import import_lines
from projections.trait_values import TraitNormalisation, TraitValues
from tests.events import event

SENT = [
    event("identified", "2026-02-01", email="a@example.com", traits={"city": "Shanghai", "gender": "Female"}),
    event("identified", "2026-02-01", email="b@example.com", traits={"city": "上海", "gender": "女"}),
    event("identified", "2026-02-01", email="c@example.com", traits={"city": " shanghai  shi "}),
    event("identified", "2026-02-01", email="d@example.com", traits={"city": "上海市", "address.city": "Shanghai City"}),
    event("identified", "2026-02-01", email="e@example.com", traits={"city": "Beijing", "province": "北京市"}),
    event("identified", "2026-02-02", email="e@example.com", traits={"city": "Peking"}),
]
BY_CITY = "SELECT JSONExtractString(traits, 'city') AS city, count() AS customers FROM cdp.profiles FINAL GROUP BY city ORDER BY city"


def traits_of(platform: Platform, email: str) -> dict:
    (customer,) = Customers(platform.warehouse).resolve_all(email)
    (found,) = platform.warehouse.query("SELECT traits FROM cdp.profiles FINAL WHERE customer_id = {c:String}", {"c": customer})
    return orjson.loads(found["traits"])


def test_one_city_whichever_script_it_was_written_in(platform: Platform, tmp_path):
    assert import_lines((orjson.dumps(e) for e in SENT), platform, "traits").stored == len(SENT)
    platform.runner.run()
    assert platform.warehouse.query(BY_CITY) == [{"city": "上海", "customers": 4}, {"city": "北京", "customers": 1}]
    assert traits_of(platform, "a@example.com") == {"city": "上海", "gender": "female"}
    assert traits_of(platform, "b@example.com")["gender"] == "female"
    assert traits_of(platform, "d@example.com") == {"city": "上海", "address.city": "上海"}
    assert traits_of(platform, "e@example.com") == {"city": "北京", "province": "北京"}

    config = tmp_path / "cdp.toml"
    config.write_text('[profile.trait_values.city]\ntables = ["china_cities"]\nsynonyms = { "上海" = ["SH", "魔都"] }\nfold_case = true\n')
    platform.close()
    with Platform(load_settings(config, data_dir=platform.settings.data_dir)) as configured:
        import_lines([orjson.dumps(event("identified", "2026-02-03", email="a@example.com", traits={"city": "sh"}))], configured, "later")
        import_lines([orjson.dumps(event("identified", "2026-02-03", email="f@example.com", traits={"city": "New York"}))], configured, "later")
        assert rebuild(configured, []) == len(SENT) + 2
        assert configured.warehouse.query(BY_CITY) == [{"city": "new york", "customers": 1}, {"city": "上海", "customers": 4}, {"city": "北京", "customers": 1}]
        assert traits_of(configured, "a@example.com")["gender"] == "female"  # the other defaults stay


def test_trait_values_are_validated_configuration():
    rules = TraitNormalisation.model_validate({"tier_name": {"synonyms": {"gold": ["Gold member", "金卡"]}}})
    assert (rules.canonical("tier_name", " gold  MEMBER"), rules.canonical("tier_name", "金卡"), rules.canonical("tier_name", "Silver ")) == ("gold", "gold", "Silver")
    assert rules.canonical("city", "SHANGHAI") == "上海" and rules.canonical("age", 30) == 30
    with pytest.raises(ValueError, match="synonyms: 'Gold' is given for both 'gold' and 'Gold'"):
        TraitValues.model_validate({"synonyms": {"gold": [], "Gold": ["gold"]}})
    with pytest.raises(ValueError, match="tables.0"):
        TraitValues.model_validate({"tables": ["china_towns"]})
