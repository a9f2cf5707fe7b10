"""Chinese word segmentation for the text analysers (sentiment, topics), with jieba.

Matching Chinese terms as substrings misreads feedback: 快 (fast) is in 快递 (parcel), 好 (good) in
好像 (seems). jieba (MIT, pure Python, its dictionary shipped in the wheel) cuts a text into words
by the most probable route through that dictionary; it reads no clock and gives the same words for
the same text, so projections stay deterministic (docs/architecture.md §2). The analysers' own
terms are added to the dictionary, so each comes out as one word.

The dictionary is read from the installed package, once per process, and never through jieba's
cache file in the shared temporary directory (which another user could plant). jieba itself is
imported on first use: importing it costs about half a second, which a command that analyses no
text should not pay.
"""

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+(?:'[a-z]+)?|[^\s\w]", re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _dictionary() -> tuple[dict[str, int], int]:
    """jieba's word frequencies and their total, read from its package once."""
    import jieba

    tokenizer = jieba.Tokenizer()
    return tokenizer.gen_pfdict(tokenizer.get_dict_file())


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
