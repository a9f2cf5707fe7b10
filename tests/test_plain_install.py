"""``pip install .`` without the ``scaleout`` extra: every command of the embedded default works,
and ``cdp worker`` and ``cdp relay`` say which extra to install.

A second virtual environment would take minutes to build, so the test runs the real ``cdp`` in a
subprocess whose import system refuses the extra's packages (faust-streaming, aiokafka, mode),
exactly as a plain install lacks them."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import orjson

import cdp
from cdp.workload import generate
from tests.cli import environment

EXTRA = ("faust", "aiokafka", "mode", "kafka")
NEEDS_EXTRA = {"cdp.scaleout.relay", "cdp.scaleout.worker", "cdp.scaleout.delivery", "cdp.scaleout.batching", "cdp.activation.destinations.kafka"}  # the kafka destination kind: listed as failed to load; delivery and batching: the worker's faust consumer and batches
NOT_IMPORTED = NEEDS_EXTRA | {"cdp.__main__"}  # which runs the command
WITHOUT_EXTRA = f"""
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {EXTRA!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Absent())
"""


def without_extra(code: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRA + code], capture_output=True, env=environment(data_dir), timeout=300, check=False)


def cdp_without_extra(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return without_extra(f"import runpy; sys.argv = ['cdp', *{list(args)!r}]; runpy.run_module('cdp', run_name='__main__')", data_dir)


def test_the_embedded_commands_work_without_the_extra(tmp_path: Path):
    data = tmp_path / "data"
    workload = tmp_path / "workload.jsonl"
    workload.write_bytes(b"\n".join(orjson.dumps(e) for e in generate(20, seed=3)) + b"\n")
    assert cdp_without_extra("--help", data_dir=data).returncode == 0
    for command in (["ingest", str(workload)], ["run"], ["sources", "add", "web", "--kind", "website"], ["analytics", "revenue"]):
        result = cdp_without_extra(*command, data_dir=data)
        assert result.returncode == 0, (command, result.stderr.decode())


def test_no_module_but_the_scale_out_runners_needs_the_extra(tmp_path: Path):
    modules = sorted(m.name for m in pkgutil.walk_packages(cdp.__path__, "cdp.") if m.name not in NOT_IMPORTED)
    result = without_extra(f"import importlib\nfor m in {modules!r}: importlib.import_module(m)", tmp_path)
    assert result.returncode == 0, result.stderr.decode()


def test_the_scale_out_commands_name_the_extra(tmp_path: Path):
    for command, missing in (("worker", "faust"), ("relay", "aiokafka")):
        result = cdp_without_extra(command, data_dir=tmp_path / "data")
        assert result.returncode == 2
        assert result.stderr.decode() == f"error: `cdp {command}` needs the scale-out extra ({missing} is not installed): pip install 'cdp[scaleout]'\n"
