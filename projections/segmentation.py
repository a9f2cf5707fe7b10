"""Chinese word segmentation for the text analysers (sentiment, topics), with jieba.

Matching Chinese terms as substrings misreads feedback: 快 (fast) is in 快递 (parcel), 好 (good) in
好像 (seems). jieba (MIT, pure Python, its dictionary shipped in the wheel) cuts a text into words
by the most probable route through that dictionary; it reads no clock and gives the same words for
the same text, so projections stay deterministic (docs/architecture.md §2). The analysers' own
terms are added to the dictionary, so each comes out as one word.

The dictionary is read from the installed package once per process, or from this user's own cache
of it (``$XDG_CACHE_HOME/cdp``, else ``~/.cache/cdp``): building it costs each process about a
second of CPU (several under load), loading the cache a third of that, and every process that
projects a free-text event pays it. jieba's own cache file is never used: it lives in the shared
temporary directory, where another user could plant it; ours is read only from a directory and a
file this user owns that no one else can write. jieba itself is imported on first use: importing
it costs about half a second, which a command that analyses no text should not pay.
"""

import marshal
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:'[a-z]+)?|[^\s\w]", re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _dictionary() -> tuple[dict[str, int], int]:
    """jieba's word frequencies and their total: from this user's cache, else read from its package (and cached)."""
    import jieba

    source = Path(jieba.__file__).with_name("dict.txt")
    built = source.stat()
    name = f"jieba-{jieba.__version__}-{built.st_size}-{built.st_mtime_ns}.marshal"  # a new jieba or dictionary: a new file
    directory = _cache_directory()
    cached = None if directory is None else _read_own(directory, name)
    if cached is not None:
        return cached
    tokenizer = jieba.Tokenizer()
    frequencies = tokenizer.gen_pfdict(tokenizer.get_dict_file())
    if directory is not None:
        _write_own(directory, name, marshal.dumps(frequencies))
    return frequencies


def _cache_directory() -> Path | None:
    """``$XDG_CACHE_HOME/cdp`` (an absolute path only, as the XDG specification says), else ``~/.cache/cdp``; None without a home."""
    configured = os.environ.get("XDG_CACHE_HOME", "")
    try:
        return (Path(configured) if os.path.isabs(configured) else Path.home() / ".cache") / "cdp"
    except RuntimeError:  # no home directory to be found
        return None


def _owned_by_me_alone(status: os.stat_result) -> bool:
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_own(directory: Path, name: str) -> tuple[dict[str, int], int] | None:
    """The cached dictionary, if the directory and the file are this user's and no one else can
    write them, and it reads back as a dictionary; else None (it is then built again)."""
    try:
        if not _owned_by_me_alone(directory.stat()):
            return None
        descriptor = os.open(directory / name, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            if not (stat.S_ISREG((status := os.fstat(descriptor)).st_mode) and _owned_by_me_alone(status)):
                return None
            loaded = marshal.loads(handle.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if isinstance(loaded, tuple) and len(loaded) == 2 and isinstance(loaded[0], dict) and isinstance(loaded[1], int):
        return loaded
    return None


def _write_own(directory: Path, name: str, content: bytes) -> None:
    """Keeps the dictionary for the next process: written whole under a temporary name, then
    renamed. A cache that cannot be written (read-only home) is only a slower start."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned_by_me_alone(directory.stat()):
            return
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".jieba-")  # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, directory / name)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def tokenizer(words: Iterable[str]) -> "jieba.Tokenizer":
    """A jieba tokenizer on its own dictionary plus ``words`` (each kept whole when cutting)."""
    import jieba

    frequencies, total = _dictionary()
    cutter = jieba.Tokenizer()
    cutter.FREQ, cutter.total, cutter.initialized = dict(frequencies), total, True
    for word in sorted(set(words)):
        if _HAN.search(word):
            cutter.add_word(word)
    return cutter


def tokens(text: str, cutter: "jieba.Tokenizer") -> list[str]:
    """Lower-case words (English words whole with their apostrophe, Chinese runs cut into words)
    and punctuation marks, in order; whitespace dropped."""
    found: list[str] = []
    for run in _TOKEN.findall(text.lower()):
        found.extend(cutter.lcut(run, HMM=False) if _HAN.match(run) else (run,))
    return found
