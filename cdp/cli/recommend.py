"""``cdp recommend ID``: a customer's recommended products (bought or viewed together with theirs),
from ``RecommendationService`` as the operator."""

from typing import Annotated

import typer

from cdp.cli.options import ConfigFile, DataDir, RowFormat, out
from cdp.cli.render import print_rows
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.recommendations import MAX_N, RecommendationService


def recommend_command(
    identifier: Annotated[str, typer.Argument(help="Customer id, email, phone, user id, anonymous id, or platform:handle.")],
    n: Annotated[int, typer.Option("--n", help="How many products.", min=1, max=MAX_N)] = 10,
    fmt: RowFormat = "table",
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Products to recommend to a customer: bought or viewed together with theirs, never one they bought, best first."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        rows = RecommendationService(platform, operator()).for_customer(identifier, n)
    print_rows(out, rows, fmt)
