"""HubSpot's deal export (CRM → Deals → Export, CSV), with HubSpot's default column names.

Each row is the deal's current stage as a ``deal_stage_changed`` at its last modification; a
deal in a closed-won stage is also an ``order_placed`` at its close date. HubSpot names the
associated contact's email column after the association; both usual names are accepted.
"""

from collections.abc import Iterator
from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from ingestion.sdk import Connector, Touch


class HubSpotDealRow(BaseModel):
    model_config = ConfigDict(extra="allow")

    record_id: str = Field(validation_alias="Record ID", min_length=1)
    deal_name: str = Field("", validation_alias="Deal Name")
    stage: str = Field(validation_alias="Deal Stage", min_length=1)
    pipeline: str | None = Field(None, validation_alias="Pipeline")
    amount: float | None = Field(None, validation_alias="Amount")
    currency: str | None = Field(None, validation_alias="Currency")
    owner: str | None = Field(None, validation_alias="Deal owner")
    email: str | None = Field(None, validation_alias=AliasChoices("Associated Contact Email", "Email"))
    modified: datetime = Field(validation_alias="Last Modified Date")
    closed: datetime | None = Field(None, validation_alias="Close Date")

    @field_validator("pipeline", "amount", "currency", "owner", "email", "closed", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value


class HubSpotDealExport(Connector):
    name = "hubspot-deals"
    tool = "HubSpot deal export (CSV)"
    source_kind = "sales"
    Record = HubSpotDealRow
    formats = ("csv",)
    examples = (
        {"Record ID": "18446744", "Deal Name": "Acme annual plan", "Pipeline": "Sales Pipeline", "Deal Stage": "Closed Won", "Amount": "12000",
         "Currency": "USD", "Deal owner": "Chen Jie", "Create Date": "2025-09-01 10:00", "Last Modified Date": "2025-10-15 16:20",
         "Close Date": "2025-10-15 16:00", "Associated Contact Email": "buyer@acme.example"},
        {"Record ID": "18446745", "Deal Name": "Globex pilot", "Pipeline": "Sales Pipeline", "Deal Stage": "Presentation Scheduled", "Amount": "",
         "Currency": "", "Deal owner": "", "Create Date": "2025-11-02 09:00", "Last Modified Date": "2025-11-10 11:00",
         "Close Date": "", "Associated Contact Email": "cto@globex.example"},
    )  # fmt: skip

    def map(self, row: HubSpotDealRow) -> Iterator[Touch]:
        stage = row.stage.strip().lower().replace(" ", "_")
        who = {"email": row.email, "user_id": None if row.email else f"hubspot-deal:{row.record_id}"}
        deal = {"deal_id": row.record_id, "stage": stage, "amount": row.amount, "currency": row.currency, "deal_name": row.deal_name, "pipeline": row.pipeline}
        yield Touch(f"{row.record_id}:{stage}", "deal_stage_changed", row.modified, who, deal)
        if stage in ("closed_won", "closedwon") and row.amount is not None:
            order = {"order_id": f"hubspot-deal-{row.record_id}", "amount": row.amount, "currency": row.currency or "USD", "channel": "sales", "salesperson": row.owner}
            yield Touch(f"{row.record_id}:won", "order_placed", row.closed or row.modified, who, order)
