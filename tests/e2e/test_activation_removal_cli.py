"""Removing destinations and audience bindings with the real ``cdp`` command: a destination still
bound, or named by an enabled trigger, is kept with the reason; unknown names are named back."""

from pathlib import Path

from tests.cli import cdp

RULE = """
[triggers.rules.greet]
when = { kind = "birthday" }
then = { destination = "drop", channel = "email", purpose = "email_marketing" }
"""


def ok(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def refused(*args: str, data_dir: Path) -> str:
    done = cdp(*args, data_dir=data_dir)
    assert done.returncode != 0 and not done.stdout and "Traceback" not in done.stderr.decode(), done
    return done.stderr.decode()


def test_removing_what_is_in_use_is_refused_with_the_reason(tmp_path: Path):
    data, segment = tmp_path / "data", tmp_path / "all.yaml"
    data.mkdir()
    (data / "cdp.toml").write_text(RULE)
    segment.write_text('name: everyone\nwhere: {field: events_total, op: ">=", value: 0}\n')
    ok("segment", "create", str(segment), data_dir=data)
    ok("destinations", "add", "drop", "--kind", "file", "--set", "file_name=drop.jsonl", data_dir=data)
    ok("audiences", "bind", "all", "--segment", "everyone", "--destination", "drop", "--purpose", "none", data_dir=data)

    assert "destination: 'drop' is bound to the audience(s) all; unbind them first" in refused("destinations", "remove", "drop", data_dir=data)
    assert "audience: no binding is named 'nope'" in refused("audiences", "unbind", "nope", data_dir=data)
    assert "audience all unbound" in ok("audiences", "unbind", "all", data_dir=data)
    ok("triggers", "enable", "greet", data_dir=data)
    assert "destination: 'drop' is used by the enabled trigger(s) greet; disable them first" in refused("destinations", "remove", "drop", data_dir=data)
    ok("triggers", "disable", "greet", data_dir=data)
    assert "destination drop removed" in ok("destinations", "remove", "drop", data_dir=data)
    assert "destination: none is named 'drop'" in refused("destinations", "remove", "drop", data_dir=data)
