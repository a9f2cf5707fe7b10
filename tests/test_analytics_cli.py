"""``cdp analytics <query> --chart FILE`` as a user runs it: the table, and the chart file with the data in it."""

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.cli import cdp


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo")
    result = cdp("demo", "--customers", "40", data_dir=path)
    assert result.returncode == 0, result.stderr.decode()
    return path


def test_funnel_chart_as_png_holds_the_counts_the_table_shows(data_dir: Path, tmp_path: Path):
    result = cdp("analytics", "funnel", "--format", "json", "--chart", str(tmp_path / "funnel.png"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    rows = json.loads(text[: text.rindex("]") + 1])
    assert f"chart: {tmp_path / 'funnel.png'}" in text
    with Image.open(tmp_path / "funnel.png") as image:
        assert json.loads(image.text["Description"])["series"] == {"customers": [r["customers"] for r in rows]}
    assert rows[0]["customers"] > 0


def test_retention_chart_as_html(data_dir: Path, tmp_path: Path):
    result = cdp("analytics", "retention", "--chart", str(tmp_path / "charts" / "retention.html"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr.decode()
    html = (tmp_path / "charts" / "retention.html").read_text()
    assert "Retention: % of each cohort active N periods later" in html and '"type":"heatmap"' in html


def test_a_chart_file_of_another_kind_is_refused_before_any_query(data_dir: Path, tmp_path: Path):
    result = cdp("analytics", "channels", "--chart", str(tmp_path / "mix.svg"), data_dir=data_dir)
    assert result.returncode == 2
    assert result.stderr.decode().strip() == f"error: --chart: expected a file name ending in .html or .png, got '{tmp_path / 'mix.svg'}'"
    assert not (tmp_path / "mix.svg").exists()
