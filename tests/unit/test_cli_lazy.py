"""The ``cdp`` command's lazy groups (cdp/cli/lazy.py): listed without importing, built as before."""

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cdp.cli.main import _Commands, app
from tests.cli import cdp

LAZY = _Commands.lazy


@pytest.mark.parametrize("name", list(LAZY))
def test_a_lazy_commands_listed_help_is_its_own(name: str):
    """``cdp --help`` shows the registered text: it must be the command's own, word for word."""
    assert LAZY[name].load(name).help == LAZY[name].help


@pytest.mark.parametrize("name", list(LAZY))
def test_a_lazy_command_is_built_with_its_name_and_no_completion_options(name: str):
    command = LAZY[name].load(name)
    assert command.name == name
    assert not {"install_completion", "show_completion"} & {p.name for p in command.params}


def test_the_top_level_lists_every_command_once():
    group = typer.main.get_command(app)
    names = group.list_commands(typer.Context(group))
    assert len(names) == len(set(names))
    assert set(LAZY) <= set(names) and {"ingest", "profile", "schemas", "identity"} <= set(names)


def test_importing_the_command_imports_no_lazy_module():
    modules = sorted({entry.target.partition(":")[0] for entry in LAZY.values()})
    code = f"import sys, cdp.cli.main; print([m for m in {modules!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout.decode().strip() == "[]"


def test_help_lists_a_lazy_group_and_a_lazy_group_runs(tmp_path: Path):
    listing = cdp("--help", data_dir=tmp_path, env={"COLUMNS": "200"})
    assert listing.returncode == 0, listing.stderr.decode()
    assert LAZY["master-key"].help in listing.stdout.decode()
    group = cdp("master-key", "--help", data_dir=tmp_path, env={"COLUMNS": "200"})
    assert group.returncode == 0 and "rotate" in group.stdout.decode(), group.stderr.decode()
