"""`cdp forget IDENTIFIER`: forget a customer (``cdp.services.privacy``) and print the erasure receipt."""

import sys
from typing import Annotated

import orjson
import typer

from cdp.cli.options import ConfigFile, DataDir, out
from cdp.config import load_settings
from cdp.platform import Platform
from cdp.services import operator
from cdp.services.privacy import PrivacyService


def forget_command(
    identifier: Annotated[str, typer.Argument(help="Customer id, email, phone, user id, anonymous id, or platform:handle.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable receipt.")] = False,
    data_dir: DataDir = None,
    config: ConfigFile = None,
) -> None:
    """Forget a customer (right to erasure): shred their keys, erase their personal data, print the receipt."""
    with Platform(load_settings(config, data_dir=data_dir)) as platform:
        receipts = PrivacyService(platform, operator()).forget(identifier)
    if as_json:
        sys.stdout.write(orjson.dumps(receipts, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for receipt in receipts:
        out.print(f"erasure receipt {receipt['erasure_token']} ({receipt['erased_at']})", markup=False, highlight=False)
        for label, value in receipt.items():
            if label not in ("erasure_token", "erased_at"):
                shown = ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(value) if isinstance(value, list) else value
                out.print(f"  {label:>26}: {shown or '-'}", markup=False, highlight=False)
