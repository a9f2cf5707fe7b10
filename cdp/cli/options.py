"""What every ``cdp`` command module shares: the consoles and the ``--data-dir``, ``--config`` and
``--format`` options. The command modules import it and ``cdp.cli.main`` loads them (lazily), never
the other way round."""

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

# soft_wrap: a long line (a file path, a URI, a key) is never cut into lines where a terminal or
# a script would not expect it; tables still fit the terminal's width
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Data directory [env: CDP_DATA_DIR; default: ./.cdp]", show_default=False)]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="TOML config file [env: CDP_CONFIG; default: DATA_DIR/cdp.toml]", show_default=False)]


class Rows(str, Enum):
    """How a command prints rows (``cdp.cli.render.print_rows``)."""

    table = "table"
    json = "json"
    csv = "csv"


RowFormat = Annotated[Rows, typer.Option("--format", help="How to print the rows.")]
