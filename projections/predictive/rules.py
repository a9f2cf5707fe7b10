"""Settings of the predictions (configuration is data): the horizon, the discount rate, and how
many customers a fit needs. The margin is the value rules' ``clv_gross_margin``."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PredictionRules(BaseModel):
    """``value.predictions`` in the configuration file (README "Predictions")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purchase_model: Literal["bgnbd", "mbgnbd"] = Field("bgnbd", description="bgnbd: BG/NBD (P(alive) is 1 until a customer's first repeat purchase); mbgnbd: MBG/NBD, where a customer may drop out after the first purchase too (README \"Predictions\").")
    horizon_days: int = Field(365, gt=0, le=3650, description="Expected purchases, revenue and predicted CLV cover this many days after the as-of time.")
    annual_discount_rate: float = Field(0.10, ge=0, lt=1, description="Future margin is discounted at this yearly rate (applied monthly) in the predicted CLV.")
    min_customers: int = Field(50, ge=2, description="A fit needs at least this many customers with a purchase; fewer cannot identify the model.")
