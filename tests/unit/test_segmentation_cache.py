"""The word-segmentation dictionary is kept between processes in this user's own cache, and a file
anyone else could have written is never read (projections/segmentation.py)."""

import marshal
import os

import jieba
import pytest

from projections import segmentation

SMALL = ({"好": 7, "好像": 3}, 10)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    segmentation._dictionary.cache_clear()
    yield tmp_path / "cdp"
    segmentation._dictionary.cache_clear()


def cached_file(directory):
    (name,) = [path.name for path in directory.iterdir() if path.name.startswith("jieba-")]
    return directory / name


def test_the_first_process_builds_and_keeps_it_only_for_this_user_and_the_next_reads_it(cache_home):
    built = segmentation._dictionary()
    assert len(built[0]) > 400_000 and built[1] > 0
    kept = cached_file(cache_home)
    assert cache_home.stat().st_mode & 0o777 == 0o700 and kept.stat().st_mode & 0o777 == 0o600
    assert [path.name for path in cache_home.iterdir()] == [kept.name]  # no temporary file left behind
    kept.write_bytes(marshal.dumps(SMALL))  # what the next process finds is what it uses
    segmentation._dictionary.cache_clear()
    assert segmentation._dictionary() == SMALL


@pytest.mark.parametrize("spoil", ["writable by others", "a link", "not a dictionary", "cut short", "directory writable by others"])
def test_a_cache_anyone_else_could_have_written_or_that_does_not_read_back_is_built_again(cache_home, tmp_path, spoil):
    segmentation._dictionary()
    kept = cached_file(cache_home)
    planted = marshal.dumps(SMALL)
    if spoil == "writable by others":
        kept.write_bytes(planted)
        kept.chmod(0o666)
    elif spoil == "a link":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_bytes(planted)
        kept.unlink()
        kept.symlink_to(elsewhere)
    elif spoil == "not a dictionary":
        kept.write_bytes(marshal.dumps(["好", 7]))
    elif spoil == "cut short":
        kept.write_bytes(marshal.dumps(SMALL)[:-3])
    else:
        kept.write_bytes(planted)
        cache_home.chmod(0o777)
    segmentation._dictionary.cache_clear()
    frequencies, total = segmentation._dictionary()
    assert len(frequencies) > 400_000 and total > 0


def test_a_home_that_cannot_be_written_only_costs_the_build(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-directory"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    segmentation._dictionary.cache_clear()
    try:
        tokenizer = jieba.Tokenizer()
        assert segmentation._dictionary() == tokenizer.gen_pfdict(tokenizer.get_dict_file())
    finally:
        segmentation._dictionary.cache_clear()
    assert os.path.isfile(blocked)
