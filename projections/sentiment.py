"""Sentiment of free text (反馈分析), by an explainable lexicon method.

Method: a small English and Chinese lexicon written for this project (Apache-2.0, like the rest of
the code; no third-party word list). English words are matched as whole words, Chinese terms as
substrings (no segmentation). A negator right before a term (``not``, ``never``, 不, 没, 别, ...)
flips its sign. The score is the sum of the matched terms' weights; the label is ``positive``
above zero, ``negative`` below, ``neutral`` at zero. ``Sentiment.terms`` lists what matched, so
every label can be explained. The lexicon is configuration: extend or replace it per language.
"""

import re
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

LABELS = ("positive", "neutral", "negative")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


class SentimentRules(BaseModel):
    """The lexicon: term → weight (positive or negative). Matching is case-insensitive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    english: dict[str, int] = Field(
        default={
            "love": 2, "great": 2, "excellent": 2, "amazing": 2, "perfect": 2, "recommend": 2, "good": 1, "nice": 1, "fast": 1,
            "happy": 1, "thanks": 1, "helpful": 1, "beautiful": 1, "again": 1, "satisfied": 1,
            "bad": -1, "slow": -1, "late": -1, "expensive": -1, "disappointed": -2, "damaged": -2, "broken": -2, "terrible": -2,
            "awful": -2, "worst": -2, "angry": -2, "rude": -2, "never": -1, "still": -1, "refund": -1, "complaint": -1, "wrong": -1,
        },
        description="English words (whole words, lower case) and their weights.",
    )
    chinese: dict[str, int] = Field(
        default={
            "好": 1, "很好": 1, "喜欢": 2, "满意": 2, "推荐": 2, "精美": 1, "合适": 1, "快": 1, "谢谢": 1, "不错": 1, "还可以": 1, "赞": 2,
            "差": -2, "太差": -2, "失望": -2, "慢": -1, "贵": -1, "坏": -2, "破损": -2, "投诉": -2, "生气": -2, "退款": -1, "不回复": -2, "骗": -2,
        },
        description="Chinese terms (matched as substrings) and their weights.",
    )
    english_negators: list[str] = Field(default=["not", "no", "never", "don't", "doesn't", "isn't", "wasn't", "didn't", "hardly"], description="Words that flip the next term.")
    chinese_negators: list[str] = Field(default=["不", "没", "没有", "别", "未"], description="Characters right before a term that flip it.")

    @cached_property
    def _chinese_pattern(self) -> re.Pattern | None:
        terms = sorted(self.chinese, key=len, reverse=True)  # longest first: 很好 before 好
        return re.compile("|".join(map(re.escape, terms))) if terms else None


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: str  # one of LABELS
    score: int
    terms: tuple[str, ...]  # what matched, e.g. ("love", "not good", "失望")


def sentiment(text: str, rules: SentimentRules) -> Sentiment:
    terms: list[str] = []
    score = 0
    words = _WORD.findall(text.lower())
    negators = set(rules.english_negators)
    for i, word in enumerate(words):
        weight = rules.english.get(word)
        if weight is None:
            continue
        if i and words[i - 1] in negators:
            weight, word = -weight, f"{words[i - 1]} {word}"
        score += weight
        terms.append(word)
    pattern = rules._chinese_pattern
    if pattern is not None:
        for match in pattern.finditer(text):
            term, weight = match.group(), rules.chinese[match.group()]
            before = text[max(0, match.start() - 2) : match.start()]
            negator = next((n for n in sorted(rules.chinese_negators, key=len, reverse=True) if before.endswith(n)), None)
            if negator and not term.startswith(negator):
                weight, term = -weight, negator + term
            score += weight
            terms.append(term)
    label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return Sentiment(label, score, tuple(terms))
