"""Survey and feedback touchpoints (调查与反馈): NPS, CSAT, CSI, free text."""

from typing import Annotated

from pydantic import Field

from schemas.payloads.base import Code, Name, Payload
from schemas.personal import Personal

Comment = Personal[Annotated[str, Field(max_length=20_000)]]


class SurveyPayload(Payload):
    survey_id: Code | None = None


class NpsAnswered(SurveyPayload):
    """Net Promoter Score answer: 9-10 promoter, 7-8 passive, 0-6 detractor."""

    event_type = "nps_answered"
    source_kind = "survey"
    score: Annotated[int, Field(ge=0, le=10)]
    comment: Comment = ""


class CsatAnswered(SurveyPayload):
    """Customer satisfaction on a 1-5 scale; 4 and 5 count as satisfied."""

    event_type = "csat_answered"
    source_kind = "survey"
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Comment = ""


class CsiAnswered(SurveyPayload):
    """Multi-factor satisfaction (CSI): factor name → score 0-10 (product_quality, service, price_value, brand, ...)."""

    event_type = "csi_answered"
    source_kind = "survey"
    factors: Annotated[dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[float, Field(ge=0, le=10)]], Field(min_length=1, max_length=50)]


class FeedbackGiven(SurveyPayload):
    event_type = "feedback_given"
    source_kind = "survey"
    text: Personal[Annotated[str, Field(min_length=1, max_length=20_000)]]
    topic: Name | None = None


PAYLOADS = (NpsAnswered, CsatAnswered, CsiAnswered, FeedbackGiven)
