"""The dashboards' pure parts: a chart's words in the visitor's language, customers per stage, and
CSV cells no spreadsheet runs."""

from cdp.console.dashboards import chart, distribution, rows_csv
from cdp.console.i18n import Translator

FLOW = [{"from_stage": "", "to_stage": "prospect", "customers": 3, "transitions": 3}, {"from_stage": "prospect", "to_stage": "new", "customers": 1, "transitions": 1}]


def test_a_chart_is_data_in_the_visitors_language():
    drawn = chart(Translator("zh-CN"), "lifecycle-flow", FLOW)
    assert drawn["title"].startswith("生命周期流转") and drawn["kind"] == "heatmap"
    assert drawn["x"] == ["新客户", "潜在客户"] and [s["name"] for s in drawn["series"]] == ["（首次出现）", "潜在客户"]
    assert drawn["series"][0]["data"] == [None, 3]


def test_customers_per_stage_sum_the_tiers_in_stage_order():
    drawn, rows = distribution(Translator("en"), [{"lifecycle_stage": "new", "tier": "vip", "customers": 2}, {"lifecycle_stage": "new", "tier": "none", "customers": 3},
                                                   {"lifecycle_stage": "prospect", "tier": "none", "customers": 7}])
    assert rows[:3] == [{"lifecycle_stage": "prospect", "customers": 7}, {"lifecycle_stage": "new", "customers": 5}, {"lifecycle_stage": "repeat", "customers": 0}]
    assert drawn["x"][:2] == ["Prospect", "New"] and drawn["series"][0]["data"][:2] == [7, 5]


def test_csv_cells_never_run_as_formulas():
    assert rows_csv([{"event_type": "=1+cmd|' /C calc'!A0", "customers": -5}]).splitlines() == ["event_type,customers", "'=1+cmd|' /C calc'!A0,-5"]
    assert rows_csv([]) == ""
