"""How tag rules are declared: a tag holds when all of its ``all`` conditions hold and, if it has
``any`` conditions, at least one of them does. Rules are data, validated once, compiled once."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from projections.tags.features import FEATURES, WINDOWED, feature_kind

MAX_NUMBER = 1e12  # a rule's numbers: days and amounts far past any customer's, finite (1e308 days overflowed the compiler's moments)
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists", "missing"]
Scalar = str | int | float | bool


class Condition(BaseModel):
    """One test of one feature, e.g. ``{feature = "orders", op = ">=", value = 2}`` or, over a time
    window, ``{feature = "events.order_placed", within_days = 30, op = ">=", value = 1}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str = Field(description=f"A feature name: {', '.join(FEATURES)}, events.<event type> or trait.<name>.")
    op: Op = Field(description="Comparison; exists/missing take no value; in/not_in take a list.")
    value: Scalar | list[Scalar] | None = None
    within_days: int | None = Field(default=None, gt=0, description=f"Only events in the last N days (for {', '.join(WINDOWED)} and events.*).")

    @model_validator(mode="after")
    def _consistent(self) -> "Condition":
        kind = feature_kind(self.feature)
        if kind is None:
            raise ValueError(f"unknown feature {self.feature!r}")
        if self.within_days is not None and kind != "window":
            raise ValueError(f"{self.feature} has no time window")
        if self.op in ("exists", "missing") and self.value is not None:
            raise ValueError(f"{self.op} takes no value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.op} needs a list")
        if self.op not in ("exists", "missing", "in", "not_in") and (self.value is None or isinstance(self.value, list)):
            raise ValueError(f"{self.op} needs one value")
        if self.op in ("<", "<=", ">", ">=") and (isinstance(self.value, bool) or not isinstance(self.value, int | float)):
            raise ValueError(f"{self.op} needs a number")
        values = self.value if isinstance(self.value, list) else [self.value]
        if any(isinstance(v, int | float) and not -MAX_NUMBER <= v <= MAX_NUMBER for v in values):  # NaN is in no range
            raise ValueError(f"a number between -{MAX_NUMBER:,.0f} and {MAX_NUMBER:,.0f}")
        return self


class TagRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tag: str = Field(pattern=r"^[a-z0-9][a-z0-9_:.+-]*$", max_length=64)
    description: str = ""
    all: list[Condition] = []
    any: list[Condition] = []

    @model_validator(mode="after")
    def _something(self) -> "TagRule":
        if not self.all and not self.any:
            raise ValueError("a tag rule needs at least one condition")
        return self


class TagRules(BaseModel):
    """The tag rule set: the built-in tags (unless turned off) plus your own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    builtin: bool = Field(True, description="Include the built-in tags of docs/domain.md §3, §5, §6 (projections/tags/builtin.py).")
    rules: list[TagRule] = Field(default=[], description="Your own tag rules, added to (or replacing, by tag name) the built-in ones.")
    active_days: int = Field(90, gt=0, description="Active: a meaningful interaction within this many days; inactive after (活跃/非活跃).")
    spend_levels: tuple[float, float] = Field((500.0, 2000.0), description="Spend level bounds (low below the first, high from the second) over the spend window.")
    spend_window_days: int = Field(365, gt=0, description="The window the spend level is measured over, in days.")
    complaint_window_days: int = Field(180, gt=0, description="Complainer / negative voice: a complaint or negative text within this many days.")
    high_service_tickets: int = Field(3, gt=0, description="Tickets in 365 days that mark high service demand.")
    age_bands: list[str] = Field(default=["18-24", "25-34", "35-44", "45-54", "55-64", "65+"], description="Values of the age_band trait that get an age:<band> tag.")

    @model_validator(mode="after")
    def _unique_tags(self) -> "TagRules":
        names = [rule.tag for rule in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tag defined twice: {', '.join(twice)}")
        if self.spend_levels[0] >= self.spend_levels[1]:
            raise ValueError("spend_levels must be ascending")
        return self
