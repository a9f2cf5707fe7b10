"""Sales touchpoints (销售互动): leads, deals, orders, refunds, in-store purchases, loyalty points redeemed."""

from typing import Annotated

from pydantic import Field

from schemas.payloads.base import Code, Currency, Extensible, Money, Name, Payload


class LineItem(Extensible):
    """One line of a purchase; extra custom properties are kept, as personal data."""

    product_id: Code
    name: Name | None = None
    category: Name | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    price: Money = 0.0


class LeadCreated(Payload):
    event_type = "lead_created"
    source_kind = "sales"
    lead_id: Code
    campaign: Name | None = None


class DealStageChanged(Payload):
    event_type = "deal_stage_changed"
    source_kind = "sales"
    deal_id: Code
    stage: Code
    previous_stage: Code | None = None
    amount: Money | None = None
    currency: Currency | None = None


class Purchase(Payload):
    order_id: Code
    amount: Money
    currency: Currency = "USD"
    items: tuple[LineItem, ...] = Field(default=(), max_length=1000)
    salesperson: Name | None = None


class OrderPlaced(Purchase):
    """An order placed online (web shop, app, marketplace, phone order)."""

    event_type = "order_placed"
    source_kind = "sales"
    channel: Code = "online"


class StorePurchaseMade(Purchase):
    """An offline purchase in a physical store."""

    event_type = "store_purchase_made"
    source_kind = "sales"
    store_id: Code | None = None


class OrderRefunded(Payload):
    event_type = "order_refunded"
    source_kind = "sales"
    order_id: Code
    amount: Money
    currency: Currency = "USD"
    reason: Name | None = None


class PointsRedeemed(Payload):
    """Loyalty points (积分) the customer spent, as the loyalty system, shop or POS recorded it
    (docs/domain.md §10): the balance falls by ``points``."""

    event_type = "points_redeemed"
    source_kind = "sales"
    source_kinds = ("sales", "website", "service")  # at the till, in the web shop or app, or by an agent
    redemption_id: Code
    points: Annotated[int, Field(ge=1, le=1_000_000_000)]
    reward: Name | None = None  # what they were spent on: a voucher, a gift, a discount
    order_id: Code | None = None


PURCHASE_EVENT_TYPES = frozenset({OrderPlaced.event_type, StorePurchaseMade.event_type})
PAYLOADS = (LeadCreated, DealStageChanged, OrderPlaced, StorePurchaseMade, OrderRefunded, PointsRedeemed)
