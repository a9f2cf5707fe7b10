"""``cdp segment`` refuses a condition value no customer can hold, with a "did you mean", in one line."""

from pathlib import Path

from tests.cli import cdp


def test_segment_create_and_count_refuse_unknown_values(tmp_path: Path):
    data = tmp_path / "data"
    definition = tmp_path / "vip.yaml"
    definition.write_text('name: vip\nwhere:\n  all:\n    - {field: tier, op: "=", value: VIP}\n    - {tag: promotor}\n')
    for args in (("segment", "create", str(definition)), ("segment", "count", "-f", str(definition))):
        refused = cdp(*args, data_dir=data)
        error = refused.stderr.decode()
        assert refused.returncode == 2, error
        assert "where.all[0].value: tier has no value 'VIP'; did you mean 'vip'?" in " ".join(error.split())
        assert "Traceback" not in error
    assert "vip" not in cdp("segment", "list", data_dir=data).stdout.decode()

    definition.write_text('name: vip\nwhere: {all: [{field: tier, op: "=", value: vip}, {tag: promotor}]}\n')
    error = " ".join(cdp("segment", "create", str(definition), data_dir=data).stderr.decode().split())
    assert "where.all[1].tag: no tag 'promotor'; did you mean 'promoter'?" in error

    listed = cdp("segment", "fields", data_dir=data)
    assert listed.returncode == 0 and "at_risk" in listed.stdout.decode() and "promoter" in listed.stdout.decode()
