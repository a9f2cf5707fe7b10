"""The OpenAPI description of the collector's routes (request and response shapes)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DESCRIPTION = """Compatible with Segment's HTTP Tracking API: point Segment's or RudderStack's libraries at this
host. Authenticate with a source's write key as the HTTP Basic user name (empty password) or as
`writeKey` in the body. Bodies may be gzip-compressed. A request is answered only after its
events are durably stored, or kept in the dead-letter store with the reason."""


class Message(BaseModel):
    """One Segment message; see Segment's spec for each call's fields."""

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(None, description="track, identify, page, screen, group or alias (required in a batch)")
    messageId: str | None = Field(None, description="Unique per source; the same id twice is stored once")
    userId: str | None = None
    anonymousId: str | None = None
    event: str | None = Field(None, description="track: the action, e.g. 'Order Completed'")
    name: str | None = Field(None, description="page/screen: its name")
    groupId: str | None = None
    previousId: str | None = None
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    timestamp: str | None = Field(None, description="ISO 8601; corrected for clock skew with sentAt")
    originalTimestamp: str | None = None
    sentAt: str | None = None


class Batch(BaseModel):
    batch: list[Message]
    sentAt: str | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    writeKey: str | None = None


class Rejected(BaseModel):
    index: int
    reason: str


class Accepted(BaseModel):
    success: bool = True
    dead_lettered: list[Rejected] | None = Field(None, description="Messages kept in the dead-letter store instead, with why")


class Error(BaseModel):
    success: bool = False
    code: str
    message: str = Field(description="Names the field and the rule it broke")


_ERRORS = {
    400: {"model": Error, "description": "Invalid request or event (a field and its rule are named)"},
    401: {"model": Error, "description": "Missing or unknown write key, or a bad webhook signature"},
    413: {"model": Error, "description": "Body over the source's size limit"},
    429: {"model": Error, "description": "Overloaded: retry after the Retry-After header's seconds"},
    503: {"model": Error, "description": "The event store could not write; retry"},
}


def _body(schema: dict) -> dict:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _batch_schema() -> dict:
    schema = Batch.model_json_schema()
    schema.pop("$defs")
    schema["properties"]["batch"] = {"type": "array", "items": Message.model_json_schema()}
    return schema


def segment_call(call_type: str) -> dict:
    return {"summary": f"Segment {call_type} call", "response_model": Accepted, "responses": _ERRORS, "openapi_extra": _body(Message.model_json_schema())}


def batch(path: str) -> dict:
    return {"summary": "Segment batch of calls" + (" (alias of /v1/batch)" if path.endswith("import") else ""), "response_model": Accepted, "responses": _ERRORS, "openapi_extra": _body(_batch_schema())}


def webhook() -> dict:
    return {
        "summary": "A webhook delivery to a connector source",
        "description": (
            "Authenticated by the tool's signature when the source has a signing secret, else by its write key (Basic user name or ?write_key=). "
            "An unknown source name gets the same 401 as a wrong or missing key or signature (the audit log records which)."
        ),
        "response_model": Accepted,
        "responses": _ERRORS,
    }
