"""``cdp master-key rotate``: wraps the key store's data keys with a new master key (docs/operations.md, "Secrets").

Named apart from ``cdp keys``, which manages the HTTP read API's keys: this one is the secret that
protects every person's data key, and rotating it touches no read key.
"""

import os

import typer

from cdp.audit import cli_actor
from cdp.cli.options import ConfigFile, DataDir, out
from cdp.config import load_settings
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.privacy.keystore import rotate_master_key

master_key_app = typer.Typer(help="The master key that wraps every person's data key (DATA_DIR/keys.sqlite).", no_args_is_help=True)
NEW_KEY_VARIABLE = "CDP_NEW_MASTER_KEY"
MIN_LENGTH = 32  # as privacy.master_key


@master_key_app.command("rotate")
def rotate(data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """Wrap every data key with a new master key. Stop every other cdp process first (collector, runner, relay, workers).

    With the data directory's own key (DATA_DIR/master.key), a new one is generated and replaces it
    (or taken from CDP_NEW_MASTER_KEY). With a configured key (CDP_PRIVACY__MASTER_KEY), the new one
    comes from CDP_NEW_MASTER_KEY; configure it in the old one's place afterwards. Interrupted, run it again.
    """
    settings = load_settings(config, data_dir=data_dir)
    new = os.environ.get(NEW_KEY_VARIABLE) or None
    if new is not None and len(new) < MIN_LENGTH:
        raise CdpError(f"{NEW_KEY_VARIABLE} must be at least {MIN_LENGTH} characters (e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\")")
    rewrapped = rotate_master_key(settings, new.encode() if new else None)
    with Platform(settings) as platform:  # recorded as every key change is (``cdp audit``); no key material in it
        platform.audit.record(cli_actor(), "master_key.rotate", "keys.sqlite", "done", {"data_keys": rewrapped})
    where = "configure it as privacy.master_key (CDP_PRIVACY__MASTER_KEY) in every process" if settings.privacy.master_key is not None else f"it is in {settings.master_key_path}"
    done = f"{rewrapped:,} data keys wrapped with the new master key" if rewrapped else "an interrupted rotation finished: the key store opens with the new master key"
    out.print(f"{done}; {where}")
