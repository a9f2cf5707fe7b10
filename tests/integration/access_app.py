"""The whole server app (collector + read API) on a real data dir with a little warehouse data,
a read key per scope, a revoked key, a rotated-away secret and write keys."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from cdp.api.app import create_app
from cdp.activation.outbox import Binding
from cdp.api.server import build_collector
from cdp.keys import SCOPES
from cdp.platform import Platform
from cdp.segments.model import parse_segment
from projections.tables import customer_predictions, profiles, value_models
from projections.tables.table import blank_row
from tests.integration.wh_contract import event_row

EMAIL, PHONE, NAME, COMMENT = "ana.li@example.cn", "+8613800138000", "Ana Li", "my order never came, call me"
BIG = parse_segment({"name": "big", "where": {"field": "revenue", "op": ">=", "value": 500}})


@dataclass
class AccessApp:
    client: TestClient
    platform: Platform
    tokens: dict[str, str] = field(default_factory=dict)  # scope (or "revoked", "rotated-away") -> read key
    write_key: str = ""  # of source "web" (segment)
    webhook_key: str = ""  # of source "shop" (shopify webhooks, unsigned)

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def load_sample(platform: Platform) -> None:
    w = platform.warehouse
    w.insert("profiles", [
        blank_row(profiles.TABLE) | {"customer_id": "c1", "version": 1, "revenue": 600.0, "lifecycle_stage": "new", "emails": [EMAIL], "phones": [PHONE], "traits": f'{{"name": "{NAME}", "plan": "pro"}}'},
        blank_row(profiles.TABLE) | {"customer_id": "c2", "version": 1, "revenue": 50.0, "lifecycle_stage": "new", "emails": ["c2@x.cn"]},
    ])
    w.insert("identities", [{"identifier": f"email:{e}", "id_type": "email", "customer_id": c, "version": 1} for c, e in (("c1", EMAIL), ("c2", "c2@x.cn"))])
    w.insert("customer_merges", [{"absorbed": "c0", "survivor": "c1", "position": 2, "occurred_at": datetime(2025, 1, 1, tzinfo=UTC), "reason": "r"}])
    comment = event_row(4, "commented", customer="c1") | {"source_kind": "social", "properties": f'{{"text": "{COMMENT}", "sentiment": "negative", "extra": "{PHONE}"}}'}
    w.insert("events", [event_row(1, customer="c0"), event_row(2, "page_viewed", customer="c1"), event_row(3, customer="c2"), comment])
    model = {"model_version": "m1", "as_of": datetime(2025, 1, 1, tzinfo=UTC), "horizon_days": 365}
    w.insert("value_models", [blank_row(value_models.TABLE) | model | {"purchase_model": "bgnbd", "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}])
    w.insert("customer_predictions", [blank_row(customer_predictions.TABLE) | model | {"customer_id": "c1", "version": 1, "frequency": 2, "recency_days": 20, "age_days": 40, "average_order": 300.0}])
    platform.segments.create(BIG, "test")
    platform.destinations.add("big", "file", {"file_name": "big.jsonl"}, None)
    platform.outbox.bind(Binding("big", "big", "big", "", "audience", "none", (), 0, 0.0, None, None))


@contextmanager
def access_app(platform: Platform) -> Iterator[AccessApp]:
    load_sample(platform)
    app = AccessApp(TestClient(create_app(build_collector(platform), platform)), platform)
    for scope in SCOPES:
        app.tokens[scope] = platform.read_keys.create(scope.replace(":", "-"), [scope])[1]
    app.tokens["profiles+pii"] = platform.read_keys.create("support", ["profiles:read", "pii:read", "segments:read"])[1]
    app.tokens["revoked"] = platform.read_keys.create("gone", ["admin"])[1]
    platform.read_keys.revoke("gone")
    app.tokens["rotated-away"] = platform.read_keys.create("turned", ["admin"])[1]
    platform.read_keys.rotate("turned")
    app.write_key = platform.sources.add("web", "website")[1]
    app.webhook_key = platform.sources.add("shop", "sales", "shopify")[1]
    with app.client:
        yield app
