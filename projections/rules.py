"""Every projection's rules in one object, with the defaults of docs/domain.md. ``cdp.config.Settings`` holds
the same sections (read from the config file); this model serves pure code and tests."""

from pydantic import BaseModel, ConfigDict

from projections.churn import ChurnRules
from projections.identity import IdentityRules
from projections.lifecycle import LifecycleRules
from projections.loyalty import LoyaltyRules
from projections.profile import ProfileRules
from projections.satisfaction import SatisfactionRules
from projections.service import ServiceRules
from projections.tags.rules import TagRules
from projections.triggers import TriggerRules
from projections.value import ValueRules


class ProjectionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    identity: IdentityRules = IdentityRules()
    lifecycle: LifecycleRules = LifecycleRules()
    profile: ProfileRules = ProfileRules()
    tags: TagRules = TagRules()
    value: ValueRules = ValueRules()
    satisfaction: SatisfactionRules = SatisfactionRules()
    service: ServiceRules = ServiceRules()
    churn: ChurnRules = ChurnRules()
    loyalty: LoyaltyRules = LoyaltyRules()
    triggers: TriggerRules = TriggerRules()
