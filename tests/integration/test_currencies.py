"""One currency basis (projections.currency): CNY and USD orders converted with known rates, by hand.

Reporting currency CNY; rates USD 7.0 from 2026-01-01 and 7.2 from 2026-02-01.

Wang: 1,000 CNY (01-10), 100 USD (01-15: 700 CNY), 200 USD (02-10: 1,440 CNY), 50 USD refunded
(02-11: 360 CNY). Revenue 3,140 CNY, net 2,780: VIP (2,000 CNY or more); loyalty points
1,000 + 700 + 1,440 − 360 = 2,780: silver. Summed as sent she had 1,300 and was ordinary.
Müller: 150 EUR (01-20), no EUR rate: one purchase of no known amount, reported, not guessed.
Early: 100 USD on 2025-12-31, before the first USD rate: the same.
The predictive fit's inputs use the same conversion: Wang's repeat purchases average 1,070 CNY.
The rates are loaded after the events were projected: nothing changes until the rebuild.
"""

from datetime import UTC, datetime

import orjson
import pytest

from cdp.config import load_settings
from cdp.customers import Customers
from cdp.platform import Platform
from cdp.rebuild import rebuild
from cdp.services import operator
from cdp.services.value import ValueService
from ingestion.jsonl import import_lines
from tests.cli import cdp
from tests.events import event

RATES = "date,currency,rate\n2026-01-01,USD,7.0\n2026-02-01,usd,7.2\n"
WANG, MULLER, EARLY = "wang@example.com", "muller@example.com", "early@example.com"


def sale(event_type: str, at: str, amount: float, currency: str, order_id: str, email: str) -> dict:
    return event(event_type, at, properties={"order_id": order_id, "amount": amount, "currency": currency}, email=email)


SALES = [
    sale("order_placed", "2026-01-10", 1000, "CNY", "w1", WANG),
    sale("order_placed", "2026-01-15", 100, "USD", "w2", WANG),
    sale("order_placed", "2026-02-10", 200, "USD", "w3", WANG),
    sale("order_refunded", "2026-02-11", 50, "USD", "w3", WANG),
    sale("order_placed", "2026-01-20", 150, "EUR", "m1", MULLER),
    sale("order_placed", "2025-12-31", 100, "USD", "e1", EARLY),
]


def customer_row(platform: Platform, table: str, email: str) -> dict:
    (customer,) = Customers(platform.warehouse).resolve_all(email)
    (found,) = platform.warehouse.query(f"SELECT * FROM cdp.{table} FINAL WHERE customer_id = {{c:String}}", {"c": customer})
    return found


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "cdp.toml").write_text('[profile.currency]\nreporting = "CNY"\n')
    return data


def test_cny_and_usd_orders_in_one_currency(data_dir, tmp_path):
    with Platform(load_settings(data_dir=data_dir)) as platform:
        assert import_lines((orjson.dumps(e) for e in SALES), platform, "sales").stored == len(SALES)
        platform.runner.run()
        before = customer_row(platform, "profiles", WANG)
        assert (before["orders"], before["revenue"]) == (3, 1000)  # no USD rate yet: the USD orders have no known amount

    bad = tmp_path / "bad.csv"
    bad.write_text("date,currency,rate\n2026-01-01,USD,7.0\n2026-01-02,USD,seven\n")
    refused = cdp("rates", "load", str(bad), data_dir=data_dir)
    assert refused.returncode == 2 and "bad.csv line 3: rate: 'seven' is not a positive number" in refused.stderr.decode()
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    loaded = cdp("rates", "load", str(rates), data_dir=data_dir)
    assert loaded.returncode == 0, loaded.stderr.decode()
    assert "2 rates to CNY read, 2 new or changed" in loaded.stdout.decode() and "cdp projections rebuild" in loaded.stdout.decode()

    with Platform(load_settings(data_dir=data_dir)) as platform:
        assert customer_row(platform, "profiles", WANG)["revenue"] == 1000  # projected before the rates: unchanged until the rebuild
        assert rebuild(platform, []) == len(SALES)
        wang = customer_row(platform, "profiles", WANG)
        assert (wang["orders"], wang["revenue"]) == (3, 3140)
        value = customer_row(platform, "customer_value", WANG)
        assert (value["purchase_amount"], value["net_amount"], value["tier"]) == (3140, 2780, "vip")
        loyalty = customer_row(platform, "customer_loyalty", WANG)
        assert (loyalty["points"], loyalty["points_refunded"], loyalty["tier"]) == (2780, 360, "silver")
        muller = customer_row(platform, "profiles", MULLER)
        assert (muller["orders"], muller["revenue"], muller["lifecycle_stage"]) == (1, 0, "new")  # a buyer, of no known amount
        kept = platform.warehouse.query("SELECT JSONExtractFloat(properties, 'amount') AS amount, JSONExtractString(properties, 'currency') AS currency FROM cdp.events FINAL WHERE message_id = {m:String}", {"m": SALES[1]["message_id"]})
        assert kept == [{"amount": 100, "currency": "USD"}]  # the event keeps what was sent
        by_currency = platform.warehouse.query("SELECT currency, sum(purchases) AS purchases, sum(revenue) AS revenue FROM cdp.daily_sales GROUP BY currency ORDER BY currency")
        assert by_currency == [{"currency": "CNY", "purchases": 1, "revenue": 1000}, {"currency": "EUR", "purchases": 1, "revenue": 150}, {"currency": "USD", "purchases": 3, "revenue": 400}]
        ids, facts = ValueService(platform, operator()).facts(datetime(2026, 3, 1, tzinfo=UTC))  # what `cdp value fit` fits on
        (wang_id,) = Customers(platform.warehouse).resolve_all(WANG)
        assert dict(zip(ids, facts.m.tolist()))[wang_id] == 1070  # her repeat purchases converted: (700 + 1,440) / 2

    missing = cdp("rates", "missing", "--format", "json", data_dir=data_dir)
    assert missing.returncode == 1  # sales no rate converts: reported
    assert orjson.loads(missing.stdout) == [
        {"currency": "EUR", "first_day": "2026-01-20", "last_day": "2026-01-20", "purchases": 1, "revenue": 150.0, "refunds": 0, "refunded": 0.0},
        {"currency": "USD", "first_day": "2025-12-31", "last_day": "2025-12-31", "purchases": 1, "revenue": 100.0, "refunds": 0, "refunded": 0.0},
    ]


def test_rates_need_a_reporting_currency(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    refused = cdp("rates", "load", str(rates), data_dir=tmp_path / "plain")
    assert refused.returncode == 2 and "profile.currency.reporting: not set" in refused.stderr.decode()
