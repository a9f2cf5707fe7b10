"""Shopify order webhooks (topics ``orders/create`` and ``orders/cancelled``, Admin REST order shape).

Shopify signs each delivery: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app secret, body));
the topic is in ``X-Shopify-Topic``. A created order is ``order_placed``; a cancelled one is
``order_refunded`` for the refunded amount (the order total if no refund is listed). A JSON Lines
file of orders (e.g. from the Admin API's orders endpoint) imports as ``orders/create``.
"""

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ingestion.sdk import SignedConnector, Touch, hmac_digest, same


class Customer(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class LineItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    product_id: int | str | None = None
    sku: str | None = None
    title: str | None = None
    quantity: int = 1
    price: str | float = 0


class Order(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | str
    name: str | None = None
    created_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    currency: str
    total_price: str | float
    email: str | None = None
    phone: str | None = None
    source_name: str | None = None
    customer: Customer | None = None
    line_items: list[LineItem] = []
    refunds: list[dict[str, Any]] = []


class OrderDelivery(BaseModel):
    topic: Literal["orders/create", "orders/cancelled"]
    order: Order


class ShopifyOrders(SignedConnector):
    name = "shopify"
    tool = "Shopify order webhooks (orders/create, orders/cancelled)"
    source_kind = "sales"
    Record = OrderDelivery
    examples = (
        {
            "id": 820982911946154508, "name": "#9999", "email": "li.na@example.com", "created_at": "2025-11-21T10:00:00+08:00",
            "currency": "CNY", "total_price": "268.00", "phone": None, "source_name": "web",
            "customer": {"id": 115310627314723954, "email": "li.na@example.com", "phone": "+8613800138000", "first_name": "Na", "last_name": "Li"},
            "line_items": [{"id": 866550311766439020, "product_id": 632910392, "sku": "IPOD2008PINK", "title": "IPod Nano - 8GB", "quantity": 2, "price": "134.00"}],
            "refunds": [],
        },
    )  # fmt: skip

    def split(self, body: Any, headers: Mapping[str, str]) -> list[Any]:
        return [{"topic": headers.get("x-shopify-topic", "orders/create"), "order": body}]

    def map(self, record: OrderDelivery) -> Iterator[Touch]:
        order = record.order
        customer = order.customer or Customer()
        who = {"email": order.email or customer.email, "phone": order.phone or customer.phone,
               "user_id": f"shopify:{customer.id}" if customer.id is not None else None}  # fmt: skip
        traits = {k: v for k, v in (("first_name", customer.first_name), ("last_name", customer.last_name)) if v}
        if record.topic == "orders/create":
            items = [{"product_id": _product_id(i), "name": i.title, "quantity": i.quantity, "price": float(i.price)} for i in order.line_items]
            properties = {"order_id": str(order.id), "amount": float(order.total_price), "currency": order.currency, "items": items,
                          "channel": order.source_name or "online", "order_name": order.name}  # fmt: skip
            yield Touch(f"{order.id}:placed", "order_placed", order.created_at, who, properties, traits)
        else:
            refunded = sum(float(t.get("amount", 0)) for r in order.refunds for t in r.get("transactions", []) if t.get("kind") == "refund")
            properties = {"order_id": str(order.id), "amount": refunded or float(order.total_price), "currency": order.currency, "reason": order.cancel_reason}
            yield Touch(f"{order.id}:cancelled", "order_refunded", order.cancelled_at or order.created_at, who, properties, traits)

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        return same(base64.b64encode(hmac_digest(secret, body)), headers.get("x-shopify-hmac-sha256"))

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        return {"x-shopify-hmac-sha256": base64.b64encode(hmac_digest(secret, body)).decode(), "x-shopify-topic": "orders/create"}


def _product_id(item: LineItem) -> str | None:
    found = item.product_id if item.product_id is not None else item.sku
    return None if found is None else str(found)
