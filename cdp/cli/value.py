"""``cdp value fit|explain|forecast``: predicted value (BG/NBD + Gamma-Gamma, README "Predictions").
Each command calls ``cdp.services.value`` as the operator and prints the answer."""

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.cli.segments import DefinitionFile, Name, _subject
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.services import operator

if TYPE_CHECKING:
    from cdp.services.value import ValueService


def _service(platform: Platform) -> "ValueService":
    """The service, imported when a command runs: it brings scipy, half a second that every other
    ``cdp`` command would pay at start."""
    from cdp.services.value import ValueService

    return ValueService(platform, operator())


value_app = typer.Typer(help="Predicted value: P(alive), expected purchases and revenue, predicted CLV (BG/NBD + Gamma-Gamma).", no_args_is_help=True)


@value_app.command("fit")
def fit(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Fit on purchases up to the end of this day (YYYY-MM-DD, UTC); default: the data's latest event time.", show_default=False)] = None,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Fit the models on every customer's purchases, store the model (value_models) and each buyer's predictions (customer_predictions)."""
    when = _end_of_day(as_of) if as_of else None
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        model = _service(platform).fit(when)
    _print_fields(model, fmt, f"Model {model['model_version']}")


@value_app.command("explain")
def explain(
    identifier: Annotated[str, typer.Argument(help="A customer id or an identifier of theirs (email, phone, user id, ...).")],
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """A customer's prediction with its inputs (frequency, recency, age, average order) and the model it comes from."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        found = _service(platform).explain(identifier)
    model = found.pop("model")
    if fmt != "table":
        print_rows(out, [{**found, "model": model}], fmt)
        return
    _print_fields(found, fmt, f"Prediction for {found['customer_id']}")
    _print_fields(model, fmt, "Model")


@value_app.command("forecast")
def forecast(
    name: Name = None,
    file: DefinitionFile = None,
    horizon_days: Annotated[int, typer.Option("--horizon-days", help="Days ahead of the model's as-of time.")] = 90,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Expected purchases, revenue and active customers of a segment over the next N days (latest model)."""
    subject = _subject(name, file)
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        found = _service(platform).forecast(subject, horizon_days)
    _print_fields(found, fmt, f"Forecast for {found['segment']}")


def _print_fields(row: dict, fmt: str, title: str) -> None:
    """One record: as a field/value table (too many columns for one row on a terminal), else as is."""
    print_rows(out, [{"field": k, "value": v} for k, v in row.items()] if fmt == "table" else [row], fmt, title=title)


def _end_of_day(text: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise CdpError(f"--as-of: expected a day as YYYY-MM-DD, got {text[:40]!r}") from None
    return datetime.combine(day, time(), UTC) + timedelta(days=1, milliseconds=-1)
