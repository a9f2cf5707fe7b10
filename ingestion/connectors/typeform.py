"""Typeform response webhooks (``event_type: form_response``).

Typeform signs each delivery: ``Typeform-Signature`` is ``sha256=`` + base64(HMAC-SHA256(secret,
body)). An ``nps`` question's answer is ``nps_answered``; an ``opinion_scale`` or ``rating``
question of 5 steps is ``csat_answered``; a long-text answer is the comment, or, without a
score, ``feedback_given``. The respondent is found in hidden fields (``email``, ``user_id``),
an email question, or else is the response token as an anonymous id.
"""

import base64
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from ingestion.sdk import SignedConnector, Touch, hmac_digest, same


class Field_(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    ref: str | None = None


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    field: Field_
    number: int | None = None
    text: str | None = None
    email: str | None = None


class FormResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    form_id: str
    token: str
    submitted_at: datetime
    hidden: dict[str, Any] = {}
    answers: list[Answer] = []


class Delivery(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_id: str
    event_type: str
    form_response: FormResponse


class TypeformResponses(SignedConnector):
    name = "typeform"
    tool = "Typeform response webhooks (form_response)"
    source_kind = "survey"
    Record = Delivery
    examples = (
        {
            "event_id": "01JD7X2K8Q5V3", "event_type": "form_response",
            "form_response": {
                "form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15", "landed_at": "2025-11-22T08:59:10Z", "submitted_at": "2025-11-22T09:00:00Z",
                "hidden": {"email": "li.na@example.com"},
                "definition": {"id": "lT4Z3j", "title": "How did we do?", "fields": [
                    {"id": "Rk1", "ref": "nps", "type": "nps", "title": "How likely are you to recommend us?"},
                    {"id": "Rk2", "ref": "why", "type": "long_text", "title": "Why?"}]},
                "answers": [
                    {"type": "number", "number": 9, "field": {"id": "Rk1", "type": "nps", "ref": "nps"}},
                    {"type": "text", "text": "Fast delivery, friendly staff", "field": {"id": "Rk2", "type": "long_text", "ref": "why"}}],
            },
        },
    )  # fmt: skip

    def map(self, record: Delivery) -> Iterator[Touch]:
        response = record.form_response
        hidden = response.hidden
        email = hidden.get("email") or next((a.email for a in response.answers if a.email), None)
        who = {"email": email, "user_id": hidden.get("user_id"), "anonymous_id": None if email or hidden.get("user_id") else f"typeform:{response.token}"}
        comment = next((a.text for a in response.answers if a.field.type == "long_text" and a.text), "")
        base = {"survey_id": response.form_id, "comment": comment}
        scored = False
        for answer in response.answers:
            if answer.number is None:
                continue
            key = f"{response.token}:{answer.field.id}"
            if answer.field.type == "nps":
                scored = True
                yield Touch(key, "nps_answered", response.submitted_at, who, {**base, "score": answer.number})
            elif answer.field.type in ("opinion_scale", "rating") and 1 <= answer.number <= 5:
                scored = True
                yield Touch(key, "csat_answered", response.submitted_at, who, {**base, "score": answer.number})
        if comment and not scored:
            yield Touch(f"{response.token}:feedback", "feedback_given", response.submitted_at, who, {"survey_id": response.form_id, "text": comment})

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        return same(b"sha256=" + base64.b64encode(hmac_digest(secret, body)), headers.get("typeform-signature"))

    def sign(self, body: bytes, secret: str) -> dict[str, str]:
        return {"typeform-signature": "sha256=" + base64.b64encode(hmac_digest(secret, body)).decode()}
