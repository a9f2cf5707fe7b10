"""Charts of the analyses: built from the rows each analysis returns, drawn to HTML and PNG files
that hold the data (read back from the plotly figure JSON and from the PNG's text chunk, not pixels)."""

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from cdp.analytics import charts
from cdp.analytics.chart_files import data_of, write_chart
from cdp.errors import CdpError

FUNNEL = [{"step": 1, "event_type": "page_viewed", "customers": 3120, "of_first_pct": 100.0},
          {"step": 2, "event_type": "product_viewed", "customers": 1456, "of_first_pct": 46.7},
          {"step": 3, "event_type": "order_placed", "customers": 377, "of_first_pct": 12.1}]
RETENTION = [{"cohort": "2025-01-01", "offset": 0, "active": 40, "pct": 100.0}, {"cohort": "2025-01-01", "offset": 2, "active": 9, "pct": 22.5},
             {"cohort": "2025-02-01", "offset": 0, "active": 30, "pct": 100.0}, {"cohort": "2025-02-01", "offset": 1, "active": 12, "pct": 40.0}]
FLOW = [{"from_stage": "", "to_stage": "prospect", "customers": 52, "transitions": 52},
        {"from_stage": "prospect", "to_stage": "new", "customers": 17, "transitions": 17},
        {"from_stage": "new", "to_stage": "repeat", "customers": 6, "transitions": 7}]
SATISFACTION = [{"period": "2025-01-01", "nps_answers": 4, "nps": 25.0, "csat_answers": 2, "csat_pct": 50.0, "csi_answers": 2, "csi": 7.25},
                {"period": "2025-02-01", "nps_answers": 0, "nps": None, "csat_answers": 3, "csat_pct": 66.7, "csi_answers": 0, "csi": None}]
REVENUE = [{"lifecycle_stage": "new", "tier": "vip", "customers": 1, "buyers": 1, "revenue": 300.5, "revenue_per_buyer": 300.5, "revenue_pct": 75.0},
           {"lifecycle_stage": "repeat", "tier": "none", "customers": 1, "buyers": 1, "revenue": 100.25, "revenue_per_buyer": 100.25, "revenue_pct": 25.0}]
CHANNELS = [{"period": "2025-01-06", "source_kind": "website", "events": 812, "pct": 88.9}, {"period": "2025-01-06", "source_kind": "sales", "events": 101, "pct": 11.1},
            {"period": "2025-01-13", "source_kind": "website", "events": 97, "pct": 100.0}]
SLA = [{"period": "2025-01-01", "channel": "phone", "tickets": 3, "complaints": 1, "response_in_time_pct": 66.7, "resolved_in_time_pct": 50.0, "pending": 1, "median_response_minutes": 60.0},
       {"period": "2025-01-01", "channel": "email", "tickets": 2, "complaints": 0, "response_in_time_pct": 100.0, "resolved_in_time_pct": 0.0, "pending": 0, "median_response_minutes": 12.0}]


def test_funnel_is_bars_of_customers_per_step():
    chart = charts.funnel(FUNNEL)
    assert (chart.kind, chart.x, chart.series) == ("bars", ["1. page_viewed", "2. product_viewed", "3. order_placed"], {"customers": [3120, 1456, 377]})


def test_retention_is_a_cohort_by_offset_heatmap_with_gaps_where_no_one_came_back():
    chart = charts.retention(RETENTION)
    assert (chart.kind, chart.x, chart.series) == ("heatmap", ["0", "1", "2"], {"2025-01-01": [100.0, None, 22.5], "2025-02-01": [100.0, 40.0, None]})


def test_lifecycle_flow_is_a_from_by_to_matrix():
    chart = charts.lifecycle_flow(FLOW)
    assert chart.x == ["new", "prospect", "repeat"]
    assert chart.series == {charts.FIRST_SEEN: [None, 52, None], "prospect": [17, None, None], "new": [None, None, 6]}


def test_trends_and_mixes_pivot_one_series_per_name():
    assert charts.satisfaction(SATISFACTION).series == {"NPS": [25.0, None], "CSAT % satisfied": [50.0, 66.7], "CSI (average)": [7.25, None]}
    assert charts.revenue(REVENUE).series == {"vip": [300.5, None], "none": [None, 100.25]}
    assert (charts.channels(CHANNELS).kind, charts.channels(CHANNELS).series) == ("stacked", {"website": [812, 97], "sales": [101, None]})
    assert charts.sla(SLA).series == {"phone: responded in time %": [66.7], "email: responded in time %": [100.0],
                                      "phone: resolved in time %": [50.0], "email: resolved in time %": [0.0]}


REVENUE_TREND = [{"period": "2025-01-06", "currency": "CNY", "purchases": 1, "revenue": 100.0, "refunds": 0, "refunded": 0.0, "net_revenue": 100.0},
                 {"period": "2025-01-06", "currency": "USD", "purchases": 1, "revenue": 50.0, "refunds": 0, "refunded": 0.0, "net_revenue": 50.0},
                 {"period": "2025-01-13", "currency": "CNY", "purchases": 2, "revenue": 80.0, "refunds": 1, "refunded": 20.0, "net_revenue": 60.0}]


def test_broken_down_rows_draw_one_series_per_value():
    funnel = charts.funnel([r | {"breakdown": b} for b in ("spring", "") for r in FUNNEL])
    assert funnel.x == ["1. page_viewed", "2. product_viewed", "3. order_placed"]
    assert funnel.series == {"spring": [3120, 1456, 377], "(none)": [3120, 1456, 377]}
    mix = charts.channels([r | {"breakdown": "wechat"} for r in CHANNELS])
    assert mix.series == {"website · wechat": [812, 97], "sales · wechat": [101, None]}
    assert charts.revenue_trend(REVENUE_TREND).series == {"CNY": [100.0, 80.0], "USD": [50.0, None]}


ALL = [("funnel", FUNNEL), ("retention", RETENTION), ("lifecycle-flow", FLOW), ("satisfaction", SATISFACTION),
       ("revenue", REVENUE), ("revenue-trend", REVENUE_TREND), ("channels", CHANNELS), ("sla", SLA)]


@pytest.mark.parametrize("name, rows", ALL, ids=[name for name, _ in ALL])
def test_every_chart_draws_to_html_with_its_data(tmp_path: Path, name: str, rows: list[dict]):
    chart = charts.BUILDERS[name](rows)
    html = write_chart(chart, tmp_path / "out" / f"{name}.html").read_text()
    assert html.lstrip().lower().removeprefix("<!doctype html>").lstrip().startswith("<html>") and "Plotly.newPlot" in html
    figure = json.loads(re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", html, re.S).group(1))
    if chart.kind == "heatmap":
        assert [figure[0]["x"], figure[0]["y"], figure[0]["z"]] == [chart.x, list(chart.series), list(chart.series.values())]
    else:
        assert {trace["name"]: trace["y"] for trace in figure} == chart.series
        assert all(trace["x"] == chart.x for trace in figure)
    assert chart.title in html


@pytest.mark.parametrize("name, rows", ALL, ids=[name for name, _ in ALL])
def test_every_chart_draws_to_png_with_its_data_in_the_file(tmp_path: Path, name: str, rows: list[dict]):
    chart = charts.BUILDERS[name](rows)
    with Image.open(write_chart(chart, tmp_path / f"{name}.png")) as image:
        assert image.format == "PNG" and image.width >= 800
        assert image.text["Title"] == chart.title
        assert json.loads(image.text["Description"]) == json.loads(json.dumps(data_of(chart)))


def test_an_unknown_chart_suffix_is_refused_naming_the_option(tmp_path: Path):
    with pytest.raises(CdpError, match=r"--chart: expected a file name ending in \.html or \.png, got '.*out\.svg'"):
        write_chart(charts.funnel(FUNNEL), tmp_path / "out.svg")
