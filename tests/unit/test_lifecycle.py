"""Lifecycle stages with answers worked out by hand from the defaults of docs/domain.md §7."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from projections.lifecycle import DAY_MS, Facts, LifecycleRules, PAliveStages, lifecycle

RULES = LifecycleRules()


def ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)


def facts(purchases=(), activity=(), nps=(), tickets=(), first_seen=None) -> Facts:
    purchases = [(ms(d), i) for i, d in enumerate(purchases)]
    return Facts(
        purchases=purchases,
        activity=sorted({ms(d) for d in activity} | {p for p, _ in purchases}),
        nps=[(ms(d), 100 + i, s) for i, (d, s) in enumerate(nps)],
        tickets=[(ms(d), 200 + i, t, a, c) for i, (d, t, a, c) in enumerate(tickets)],
        first_seen=(ms(first_seen[0]), first_seen[1]) if first_seen else None,
    )


def stages(f: Facts, as_of: str) -> list[tuple[str, str]]:
    return [(datetime.fromtimestamp(t.at / 1000, UTC).date().isoformat(), t.to_stage) for t in lifecycle(f, ms(as_of), RULES).transitions]


def test_prospect_without_purchase():
    result = lifecycle(facts(activity=["2025-01-01", "2025-03-01"]), ms("2025-12-31"), RULES)
    assert result.stage == "prospect" and result.next_check is None


def test_known_by_an_identify_alone_is_a_prospect_from_that_event():
    result = lifecycle(facts(first_seen=("2025-01-01", ("identified",))), ms("2025-12-31"), RULES)
    assert (result.stage, result.since, result.cause, result.next_check) == ("prospect", ms("2025-01-01"), "known, no purchase yet (first event: identified)", None)
    assert [(t.from_stage, t.to_stage) for t in result.transitions] == [(None, "prospect")]


def test_a_prospect_becomes_new_on_the_first_purchase():
    f = facts(purchases=["2025-02-01"], first_seen=("2025-01-01", ("identified",)))
    assert stages(f, "2025-02-02") == [("2025-01-01", "prospect"), ("2025-02-01", "new")]
    assert stages(f, "2025-01-15") == [("2025-01-01", "prospect")]
    assert stages(f, "2024-12-31") == []  # not known yet


def test_a_first_event_that_is_a_purchase_is_new_at_once():
    assert stages(facts(purchases=["2025-01-01"], first_seen=("2025-01-01", ("order_placed",))), "2025-01-02") == [("2025-01-01", "new")]


def test_first_then_repeat_purchase():
    assert stages(facts(purchases=["2025-01-01", "2025-02-01"]), "2025-02-15") == [("2025-01-01", "new"), ("2025-02-01", "repeat")]


def test_at_risk_after_twice_the_usual_interval():
    # purchases 31 days apart → at risk 62 days after the last one (2025-02-01 + 62 d = 2025-04-04)
    result = lifecycle(facts(purchases=["2025-01-01", "2025-02-01"]), ms("2025-05-01"), RULES)
    assert result.stage == "at_risk" and result.cause == "no purchase for 62 days"
    assert stages(facts(purchases=["2025-01-01", "2025-02-01"]), "2025-05-01")[-1] == ("2025-04-04", "at_risk")


def test_one_purchase_is_at_risk_after_90_days_then_churned_after_180():
    assert stages(facts(purchases=["2025-01-10"]), "2025-12-31") == [("2025-01-10", "new"), ("2025-04-10", "at_risk"), ("2025-07-09", "churned")]


def test_purchase_after_churn_is_won_back_and_next_purchase_repeat():
    f = facts(purchases=["2025-01-10", "2025-11-15", "2025-11-20"])
    assert stages(f, "2025-11-16")[-1] == ("2025-11-15", "won_back")
    assert stages(f, "2025-11-25")[-1] == ("2025-11-20", "repeat")


def test_loyal_by_four_purchases_in_a_year():
    f = facts(purchases=["2025-01-01", "2025-01-20", "2025-02-10", "2025-03-01"])
    assert stages(f, "2025-03-02")[-1] == ("2025-03-01", "loyal")


def test_loyal_by_repeat_and_promoter_and_at_risk_by_detractor():
    f = facts(purchases=["2025-01-01", "2025-01-20"], nps=[("2025-01-25", 10), ("2025-02-01", 3)])
    assert stages(f, "2025-02-02")[-2:] == [("2025-01-25", "loyal"), ("2025-02-01", "at_risk")]
    assert lifecycle(f, ms("2025-02-02"), RULES).cause == "detractor (NPS 3)"


def test_complaint_past_sla_puts_customer_at_risk_until_resolved():
    f = facts(
        purchases=["2025-01-01"],
        tickets=[("2025-01-05T08:00:00", "T1", "opened", True), ("2025-01-07T08:00:00", "T1", "resolved", False)],
    )
    assert stages(f, "2025-01-10") == [("2025-01-01", "new"), ("2025-01-06", "at_risk"), ("2025-01-07", "new")]


def test_a_non_complaint_ticket_changes_nothing():
    f = facts(purchases=["2025-01-01"], tickets=[("2025-01-05", "T2", "opened", False)])
    assert stages(f, "2025-01-10") == [("2025-01-01", "new")]


def test_next_check_is_the_next_time_driven_change():
    result = lifecycle(facts(purchases=["2025-01-10"]), ms("2025-02-01"), RULES)
    assert result.next_check == ms("2025-01-10") + 90 * DAY_MS


def test_thresholds_come_from_configuration():
    rules = LifecycleRules(at_risk_default_days=30, churn_inactive_days=60)
    result = lifecycle(facts(purchases=["2025-01-01"]), ms("2025-03-15"), rules)
    assert result.stage == "churned" and result.cause == "no interaction for 60 days"


def test_p_alive_thresholds_make_at_risk_then_churned_on_the_day_they_are_crossed():
    # The BG/NBD CDNOW parameters (r, alpha, a, b); purchases on days 0, 10 and 20: x = 2, t_x = 20.
    # odds(T) = a / (b + 1) * ((alpha + T) / (alpha + 20)) ** (r + 2) = 0.23146 * ((4.414 + T) / 24.414) ** 2.243;
    # P(alive) < 0.5 once odds > 1: T > 42.46, day 43 (2025-02-13); < 0.2 once odds > 4: T > 82.56, day 83 (2025-03-25).
    pinned = PAliveStages(model_version="m1", purchase_model="bgnbd", r=0.243, alpha=4.414, a=0.793, b=2.426, at_risk_below=0.5, churned_below=0.2)
    rules = LifecycleRules(at_risk_interval_multiplier=100, churn_inactive_days=1000, p_alive=pinned)  # only P(alive) can act
    bought = facts(purchases=["2025-01-01", "2025-01-11", "2025-01-21", "2025-04-01"])
    result = lifecycle(bought, ms("2025-04-02"), rules)
    days = [(datetime.fromtimestamp(t.at / 1000, UTC).date().isoformat(), t.to_stage) for t in result.transitions]
    assert days == [("2025-01-01", "new"), ("2025-01-11", "repeat"), ("2025-02-13", "at_risk"), ("2025-03-25", "churned"), ("2025-04-01", "won_back")]
    causes = {t.to_stage: t.cause for t in result.transitions}
    assert causes["at_risk"].startswith("P(alive) 0.49") and causes["at_risk"].endswith("below 0.5 (model m1)")
    assert causes["churned"].startswith("P(alive) 0.19") and causes["churned"].endswith("below 0.2 (model m1)")


def test_p_alive_stages_are_off_by_default_and_a_bgnbd_one_time_buyer_stays_alive():
    assert RULES.p_alive is None
    pinned = PAliveStages(model_version="m1", purchase_model="bgnbd", r=0.243, alpha=4.414, a=0.793, b=2.426)
    result = lifecycle(facts(purchases=["2025-01-01"]), ms("2025-03-01"), LifecycleRules(at_risk_default_days=1000, churn_inactive_days=1000, p_alive=pinned))
    assert result.stage == "new"


def test_p_alive_thresholds_are_checked():
    with pytest.raises(ValidationError, match="churned_below"):
        PAliveStages(model_version="m1", purchase_model="bgnbd", r=1, alpha=1, a=1, b=1, at_risk_below=0.2, churned_below=0.5)
