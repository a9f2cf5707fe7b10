"""Website and app touchpoints (网站交互)."""

from typing import Annotated, Any

from pydantic import Field

from schemas.payloads.base import Code, Currency, Money, Name, Payload
from schemas.personal import Personal, PersonalAfterHost, PersonalAfterPath

Url = Annotated[str, Field(min_length=1, max_length=4096)]
PageLabel = Annotated[str, Field(max_length=4096)]  # as lenient as when it was a custom property: declared so it stays public


class PageViewed(Payload):
    """A page view. Its URL's and path's query string and fragment, and its referrer's path, are personal data
    (they may carry an email, a name, a search); the pages (host and path) and referring hosts stay public."""

    event_type = "page_viewed"
    source_kind = "website"
    url: PersonalAfterPath[Url | None] = None
    path: PersonalAfterPath[Url | None] = None
    title: Name | None = None
    referrer: PersonalAfterHost[Url | None] = None
    name: PageLabel | None = Field(default=None, description="The page's name (a Segment page call's name).")
    category: PageLabel | None = Field(default=None, description="The page's category (a Segment page call's category).")


class ScreenViewed(Payload):
    event_type = "screen_viewed"
    source_kind = "website"
    name: Name


class ProductViewed(Payload):
    event_type = "product_viewed"
    source_kind = "website"
    product_id: Code
    name: Name | None = None
    category: Name | None = None
    price: Money | None = None
    currency: Currency | None = None


class ProductAddedToCart(Payload):
    event_type = "product_added_to_cart"
    source_kind = "website"
    product_id: Code
    cart_id: Code | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1
    price: Money | None = None
    currency: Currency | None = None


class FormSubmitted(Payload):
    event_type = "form_submitted"
    source_kind = "website"
    form_id: Code
    fields: Personal[dict[str, str]] = {}


class SignedUp(Payload):
    event_type = "signed_up"
    source_kind = "website"
    method: Code | None = None


class Identified(Payload):
    """Links identifiers and sets traits (Segment ``identify``); the traits travel in the envelope."""

    event_type = "identified"
    source_kind = "website"


class Grouped(Payload):
    """Associates the person with an account (Segment ``group``); ``identifiers.account_id`` holds
    the same group id, which is what identity resolution links."""

    event_type = "grouped"
    source_kind = "website"
    group_id: Annotated[str, Field(min_length=1, max_length=256)]
    group_traits: Personal[Annotated[dict[Annotated[str, Field(max_length=128)], Any], Field(max_length=256)]] = {}


class Aliased(Payload):
    """Says that a previous id and the current one name the same person (Segment ``alias``); both
    are in the identifiers, which is what identity resolution links."""

    event_type = "aliased"
    source_kind = "website"
    previous_id: Personal[Annotated[str, Field(min_length=1, max_length=256)]]  # an identifier of the person, sealed as theirs are


class EventTracked(Payload):
    """Any other named action a site or app tracks (Segment ``track`` with a custom name)."""

    event_type = "event_tracked"
    source_kind = "website"
    name: Name


PAYLOADS = (PageViewed, ScreenViewed, ProductViewed, ProductAddedToCart, FormSubmitted, SignedUp, Identified, Grouped, Aliased, EventTracked)
