"""Privacy touchpoints: the record that a customer was forgotten (right to erasure, GDPR art. 17 / PIPL art. 47).

The platform writes ``customer_erased`` itself when a customer is forgotten. It carries no
identifier of the person: its only identifier is the opaque erasure token (``user_id`` =
``erased:TOKEN``) that the forgotten person's events resolve to once their keys are gone. Its
source kind is ``service``: an erasure request is handled like a customer-service request.
"""

from typing import Annotated

from pydantic import Field

from schemas.payloads.base import Payload


class CustomerErased(Payload):
    """A customer was forgotten: their data keys were deleted, so their personal data can no longer be read."""

    event_type = "customer_erased"
    source_kind = "service"
    erasure_token: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    keys_shredded: Annotated[int, Field(ge=0)] = 0
    dead_letters_shredded: Annotated[int, Field(ge=0)] = 0


PAYLOADS = (CustomerErased,)
