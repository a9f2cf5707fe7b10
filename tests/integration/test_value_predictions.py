"""Predicted value on a real data directory: `cdp value fit` stores a versioned model and each buyer's
predictions, a refit of the same facts reproduces them, explain shows inputs and model, a segment
forecasts its purchases, the prediction fields filter segments, and bad input is named."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from cdp.config import Settings, load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import NotFound, operator
from cdp.services.profiles import ProfileService
from cdp.services.segments import SegmentService
from cdp.services.value import ValueService
from ingestion.jsonl import import_lines
from projections.tables import customer_predictions
from tests.cli import cdp
from tests.collector_server import running_collector
from tests.events import order

AS_OF = datetime(2025, 6, 30, 23, 59, 59, 999_000, tzinfo=UTC)


def history() -> list[dict]:
    """Sixty customers: regulars buying every few weeks until late, and one-off or early-stopping buyers."""
    events = []
    for n in range(60):
        email = f"c{n}@example.com"
        days = range(1, 170, 10 + n % 7 * 5) if n % 3 == 0 else range(1, 1 + 20 * (n % 4 + 1), 20) if n % 3 == 1 else [n % 50 + 1]
        for k, day in enumerate(days):
            at = datetime(2025, 1, 1, tzinfo=UTC).toordinal() + day - 1
            events.append(order(datetime.fromordinal(at).date().isoformat(), 20.0 + n % 9 * 10 + k, f"o{n}-{k}", email=email))
    events.append(order("2025-08-01", 500.0, "late", email="c0@example.com"))  # after the as-of time: not an input
    return events


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", value={"predictions": {"min_customers": 20, "horizon_days": 90}})


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with Platform(settings) as p:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, history()))), p, "orders", settings.batch_size)
        p.runner.run()
        yield p


def stored(platform: Platform) -> list[dict]:
    db = platform.warehouse.database
    return platform.warehouse.query(f"SELECT * FROM `{db}`.`{customer_predictions.TABLE.name}` FINAL WHERE NOT is_deleted ORDER BY customer_id")


def test_a_fit_stores_a_versioned_model_and_a_refit_reproduces_it(platform: Platform):
    values = ValueService(platform, operator())
    model = values.fit(AS_OF)
    assert (model["customers"], model["horizon_days"]) == (60, 90)
    first = stored(platform)
    assert len(first) == 60 and {r["model_version"] for r in first} == {model["model_version"]}
    assert all(0 <= r["p_alive"] <= 1 and r["expected_purchases"] >= 0 and r["predicted_clv"] >= 0 for r in first)
    assert values.fit(AS_OF)["model_version"] == model["model_version"]
    assert stored(platform) == first

    explained = values.explain("c0@example.com")
    assert explained["model"]["model_version"] == model["model_version"]
    assert explained["frequency"] == 16 and explained["recency_days"] == 160 and explained["age_days"] == 180  # the August order is after the as-of time
    regular, one_off = explained, values.explain("c2@example.com")
    assert one_off["frequency"] == 0 and one_off["p_alive"] == 1.0
    assert regular["expected_purchases"] > one_off["expected_purchases"]


def test_segment_forecast_and_prediction_fields(platform: Platform):
    values = ValueService(platform, operator())
    values.fit(AS_OF)
    segments = SegmentService(platform, operator())
    likely = {"name": "likely", "where": {"field": "p_alive", "op": ">=", "value": 0.5}}
    everyone = {"name": "everyone", "where": {"field": "orders", "op": ">=", "value": 1}}
    assert 0 < segments.count(likely)["customers"] < 60
    whole = values.forecast(everyone, 90)
    part = values.forecast(likely, 90)
    assert whole["customers_with_purchases"] == 60
    assert 0 < part["expected_purchases"] < whole["expected_purchases"]
    assert values.forecast(everyone, 180)["expected_revenue"] > whole["expected_revenue"]
    total = sum(r["expected_purchases"] for r in stored(platform))
    assert whole["expected_purchases"] == pytest.approx(total, abs=0.05)


def test_bad_input_is_named(platform: Platform, tmp_path):
    values = ValueService(platform, operator())
    with pytest.raises(NotFound, match="cdp value fit"):
        values.forecast({"name": "all", "where": {"field": "orders", "op": ">=", "value": 1}}, 30)
    with pytest.raises(CdpError, match="as_of: 0 customers had a purchase"):
        values.fit(datetime(2024, 1, 1, tzinfo=UTC))
    values.fit(AS_OF)
    with pytest.raises(CdpError, match="horizon_days: expected 1 to 3650, got 0"):
        values.forecast({"name": "all", "where": {"field": "orders", "op": ">=", "value": 1}}, 0)
    with pytest.raises(NotFound, match="nobody@example.com"):
        values.explain("nobody@example.com")


def test_cli_fit_explain_forecast(platform: Platform, settings: Settings, tmp_path):
    platform.close()
    env = {"CDP_VALUE__PREDICTIONS__MIN_CUSTOMERS": "20"}
    fitted = cdp("value", "fit", "--as-of", "2025-06-30", "--format", "json", data_dir=settings.data_dir, env=env)
    assert fitted.returncode == 0, fitted.stderr.decode()
    version = orjson.loads(fitted.stdout)[0]["model_version"]
    explained = cdp("value", "explain", "c0@example.com", data_dir=settings.data_dir)
    assert explained.returncode == 0 and version in explained.stdout.decode() and "p_alive" in explained.stdout.decode()
    definition = tmp_path / "all.yaml"
    definition.write_text("name: all\nwhere: {field: orders, op: '>=', value: 1}\n")
    forecast = cdp("value", "forecast", "--file", str(definition), "--horizon-days", "30", "--format", "json", data_dir=settings.data_dir)
    assert forecast.returncode == 0, forecast.stderr.decode()
    assert orjson.loads(forecast.stdout)[0]["horizon_days"] == 30
    bad = cdp("value", "fit", "--as-of", "30/06/2025", data_dir=settings.data_dir)
    assert bad.returncode == 2 and b"--as-of: expected a day as YYYY-MM-DD" in bad.stderr and b"Traceback" not in bad.stderr


def test_an_import_may_reach_further_back_than_live_sources(tmp_path):
    old = orjson.dumps(order("1997-03-01", 12.0, "o1997", email="old@example.com"))
    with Platform(load_settings(data_dir=tmp_path / "strict")) as strict:
        from cdp.services.ingest import IngestService
        refused = IngestService(strict, operator()).ingest_lines(io.BytesIO(old), "old.jsonl")
        assert refused.stored == 0 and "occurred_at" in refused.rejected[0][1] and "2000-01-01" in refused.rejected[0][1]
    with Platform(load_settings(data_dir=tmp_path / "crm", earliest_imported_event_time="1990-01-01T00:00:00Z")) as crm:
        assert IngestService(crm, operator()).ingest_lines(io.BytesIO(old), "old.jsonl").stored == 1


def test_mbgnbd_lets_a_one_time_buyer_have_left(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", value={"predictions": {"min_customers": 20, "purchase_model": "mbgnbd"}})
    with Platform(settings) as platform:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, history()))), platform, "orders", settings.batch_size)
        platform.runner.run()
        values = ValueService(platform, operator())
        assert values.fit(AS_OF)["purchase_model"] == "mbgnbd"
        one_off = values.explain("c2@example.com")
        assert one_off["frequency"] == 0 and 0 < one_off["p_alive"] < 1
        assert one_off["model"]["purchase_model"] == "mbgnbd"


def test_the_360_profile_shows_the_predictions_with_their_model(platform: Platform):
    profiles = ProfileService(platform, operator())
    assert profiles.profile("c0@example.com")["predictions"] is None  # before a fit: nothing guessed
    model = ValueService(platform, operator()).fit(AS_OF)
    shown = profiles.profile("c0@example.com")["predictions"]
    explained = ValueService(platform, operator()).explain("c0@example.com")
    assert shown["model_version"] == model["model_version"]
    assert (shown["frequency"], shown["p_alive"], shown["predicted_clv"]) == (explained["frequency"], explained["p_alive"], explained["predicted_clv"])


def test_the_default_fit_counts_the_latest_purchase_to_the_millisecond(settings: Settings):
    """The default as-of time is the latest event's, milliseconds included: its purchase is an input."""
    with Platform(settings) as p:
        latest = order("2025-08-01T10:00:00.750Z", 80.0, "latest", email="late@example.com")
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, [*history(), latest]))), p, "orders", settings.batch_size)
        p.runner.run()
        values = ValueService(p, operator())
        values.fit()
        assert values.explain("late@example.com")["frequency"] == 0


def test_http_prediction_and_forecast_answer_as_the_service(platform: Platform):
    model = ValueService(platform, operator()).fit(AS_OF)
    everyone = {"name": "everyone", "where": {"field": "orders", "op": ">=", "value": 1}}
    SegmentService(platform, operator()).create(everyone)
    with running_collector(platform) as running:
        key = platform.read_keys.create("reader", ["profiles:read", "segments:read"])[1]
        with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            shown = http.get("/v1/profiles/c0@example.com/prediction").json()
            assert (shown["model_version"], shown["frequency"]) == (model["model_version"], 16)
            saved = http.get("/v1/segments/everyone/forecast", params={"horizon_days": 30}).json()
            posted = http.post("/v1/segments/forecast", params={"horizon_days": 30}, content=orjson.dumps(everyone)).json()
            direct = ValueService(platform, operator()).forecast("everyone", 30)
            assert saved == posted == {**direct, "as_of": direct["as_of"].isoformat().replace("+00:00", "Z")}
            bad = http.get("/v1/segments/everyone/forecast", params={"horizon_days": 0})
            assert bad.status_code == 422 and bad.json()["message"] == "horizon_days: expected 1 to 3650, got 0"
            assert http.get("/v1/profiles/nobody@example.com/prediction").status_code == 404


def test_lifecycle_stages_may_use_a_pinned_models_p_alive(tmp_path):
    """Pinned (``lifecycle.p_alive``), the model's P(alive) makes the regular who stopped buying at risk
    or churned with the model named in the cause; the rule-based stages are the same otherwise."""
    base = {"value": {"predictions": {"min_customers": 20}}}
    with Platform(load_settings(data_dir=tmp_path / "rules", **base)) as p:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, history()))), p, "orders", 500)
        p.runner.run()
        model = ValueService(p, operator()).fit(AS_OF)
    pinned = {k: model[k] for k in ("model_version", "purchase_model", "r", "alpha", "a", "b")}
    lifecycle = {"p_alive": {**pinned, "at_risk_below": 0.9, "churned_below": 0.5}, "at_risk_interval_multiplier": 50, "churn_inactive_days": 3650}
    with Platform(load_settings(data_dir=tmp_path / "alive", lifecycle=lifecycle, **base)) as p:
        import_lines(io.BytesIO(b"\n".join(map(orjson.dumps, history()))), p, "orders", 500)
        p.runner.run()
        history_of_c3 = ProfileService(p, operator()).profile("c3@example.com")["lifecycle_history"]
    by_model = [t for t in history_of_c3 if t["cause"].endswith(f"(model {model['model_version']})")]
    assert by_model and by_model[0]["to_stage"] == "at_risk" and by_model[0]["cause"].startswith("P(alive) 0."), history_of_c3
