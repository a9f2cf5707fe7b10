"""Delighted's NPS responses export (Dashboard → Export, CSV), with Delighted's column names.

Each row is one ``nps_answered`` (score 0-10, the comment if any) at the response time.
"""

from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingestion.sdk import Connector, Touch


class DelightedRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    response_id: str = Field(validation_alias="Response ID", min_length=1)
    email: str | None = Field(None, validation_alias="Email")
    score: int = Field(validation_alias="Score", ge=0, le=10)
    comment: str = Field("", validation_alias="Comment")
    created: datetime = Field(validation_alias="Created At")
    survey: str | None = Field(None, validation_alias="Survey")

    @field_validator("email", "survey", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


class DelightedResponsesExport(Connector):
    name = "delighted-nps"
    tool = "Delighted NPS responses export (CSV)"
    source_kind = "survey"
    Record = DelightedRow
    formats = ("csv",)
    examples = (
        {"Response ID": "88231", "Email": "li.na@example.com", "Name": "Li Na", "Score": "10", "Comment": "Love it", "Created At": "2025-11-23 12:00:00", "Survey": "Q4 NPS"},
        {"Response ID": "88232", "Email": "zhang.wei@example.com", "Name": "", "Score": "3", "Comment": "", "Created At": "2025-11-23 13:10:00", "Survey": ""},
    )

    def map(self, row: DelightedRow) -> Iterator[Touch]:
        who = {"email": row.email, "anonymous_id": None if row.email else f"delighted:{row.response_id}"}
        yield Touch(row.response_id, "nps_answered", row.created, who, {"survey_id": row.survey, "score": row.score, "comment": row.comment})
