"""Draws a ``Chart`` to a file: ``.html`` with plotly (interactive, self-contained, works offline),
``.png`` with matplotlib (no browser needed). Both libraries are imported only when a chart is drawn.

The PNG carries the chart's data as JSON in its ``Description`` text chunk, so what a picture shows
can be read back (and tested) without looking at pixels.
"""

from pathlib import Path

import orjson

from cdp.analytics.charts import Chart
from cdp.errors import CdpError

SUFFIXES = (".html", ".png")


def check_path(path: Path) -> None:
    """Refuses a file name neither renderer writes (before any query runs)."""
    if path.suffix.lower() not in SUFFIXES:
        raise CdpError(f"--chart: expected a file name ending in .html or .png, got {str(path)!r}")


def write_chart(chart: Chart, path: Path) -> Path:
    check_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (_html if path.suffix.lower() == ".html" else _png)(chart, path)
    return path


def data_of(chart: Chart) -> dict:
    return {"title": chart.title, "kind": chart.kind, "x": chart.x, "series": chart.series}


def _html(chart: Chart, path: Path) -> None:
    import plotly.graph_objects as go

    figure = go.Figure()
    if chart.kind == "heatmap":
        figure.add_trace(go.Heatmap(z=list(chart.series.values()), x=chart.x, y=list(chart.series), colorscale="Blues",
                                    texttemplate="%{z}", hoverongaps=False))
        figure.update_yaxes(autorange="reversed", type="category")
    else:
        for name, values in chart.series.items():
            figure.add_trace(go.Scatter(x=chart.x, y=values, name=name, mode="lines+markers") if chart.kind == "lines"
                             else go.Bar(x=chart.x, y=values, name=name, text=values, textposition="auto"))
    figure.update_layout(title=chart.title, xaxis_title=chart.x_title, yaxis_title=chart.y_title,
                         barmode="stack" if chart.kind == "stacked" else "group", template="plotly_white")
    figure.update_xaxes(type="category")
    figure.write_html(path, include_plotlyjs=True, full_html=True)


def _png(chart: Chart, path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    figure = Figure(figsize=(max(8, 0.6 * len(chart.x)), 5.5 if chart.kind != "heatmap" else max(4, 0.45 * len(chart.series) + 2)),
                    layout="constrained")
    axes = figure.add_subplot()
    if chart.kind == "heatmap":
        _heatmap(figure, axes, chart)
    elif chart.kind == "lines":
        for name, values in chart.series.items():
            axes.plot(chart.x, [float("nan") if v is None else v for v in values], marker="o", label=name)
    else:
        _bars(axes, chart)
    axes.set_title(chart.title)
    axes.set_xlabel(chart.x_title)
    axes.set_ylabel(chart.y_title)
    if chart.kind != "heatmap" and len(chart.series) > 1:
        axes.legend(fontsize="small")
    if len(chart.x) > 6:
        axes.tick_params(axis="x", labelrotation=45)
    figure.savefig(path, dpi=110, metadata={"Title": chart.title, "Description": orjson.dumps(data_of(chart)).decode()})


def _bars(axes, chart: Chart) -> None:
    positions = range(len(chart.x))
    width = 0.8 if chart.kind == "stacked" else 0.8 / len(chart.series)
    bottom = [0.0] * len(chart.x)
    for i, (name, values) in enumerate(chart.series.items()):
        heights = [v or 0 for v in values]
        if chart.kind == "stacked":
            axes.bar(positions, heights, width, bottom=bottom, label=name)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        else:
            bars = axes.bar([p - 0.4 + width * (i + 0.5) for p in positions], heights, width, label=name)
            if len(chart.series) == 1:
                axes.bar_label(bars, labels=[f"{v:,}" for v in heights])
    axes.set_xticks(list(positions), chart.x)


def _heatmap(figure, axes, chart: Chart) -> None:
    rows = list(chart.series.values())
    cells = [[float("nan") if v is None else v for v in row] for row in rows]
    image = axes.imshow(cells, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(chart.x)), chart.x)
    axes.set_yticks(range(len(rows)), list(chart.series))
    top = max((v for row in rows for v in row if v is not None), default=0)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                axes.text(c, r, f"{value:g}", ha="center", va="center", fontsize="small", color="white" if value > 0.6 * top else "black")
    figure.colorbar(image, ax=axes)
