"""Sentiment of free text (反馈分析), by an explainable lexicon method with negation, degree words
and Chinese word segmentation.

Method: the text is cut into words (``projections.segmentation``: English words whole, Chinese by
jieba) and into clauses at punctuation. Each lexicon term (``projections.sentiment_lexicon``,
phrases first, longest first) scores its weight, multiplied by the degree words before it in its
clause (很 1.3, 非常 2, slightly 0.5) and flipped by a negator (不, 没, not, never, n't); a negator
before a degree word softens instead ("不太满意", "not very good" are mildly negative). A term of
``negated_only`` scores only when denied ("never arrived", 还没发货). After a contrast word (但是,
but) what came before counts half. A Chinese word the dictionary keeps whole around a degree word
or negator (很慢, 不值) is read as its parts. The label is ``positive`` at or above
``threshold``, ``negative`` at or below minus it, else ``neutral``. ``Sentiment.terms`` lists what
scored ("不太满意", "very good"), so every label can be explained. The lexicon is configuration.

Measured on a labelled set of feedback texts by ``benchmarks/sentiment.py`` (BENCHMARKS.md).
"""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from projections import sentiment_lexicon as lexicon
from projections.segmentation import tokenizer, tokens

if TYPE_CHECKING:
    import jieba

LABELS = ("positive", "neutral", "negative")
_CLAUSE_ENDS = frozenset("，。！？；,.!?;：:、~～…\n")
_WINDOW = 3  # words a negator or degree word reaches forward within its clause


class SentimentRules(BaseModel):
    """The lexicon and how modifiers act on it. Matching is case-insensitive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    english: dict[str, float] = Field(default=lexicon.ENGLISH, description="English words and phrases (lower case, words separated by a space) and their weights.")
    chinese: dict[str, float] = Field(default=lexicon.CHINESE, description="Chinese words and phrases and their weights.")
    added: dict[str, float] = Field(default={}, description="Terms of either language added to the lexicon or given another weight (0 mutes one), without restating the defaults: {'绝绝子' = 2}.")
    negated_only: dict[str, float] = Field(default=lexicon.NEGATED_ONLY, description="Terms that score only when negated (arrived, 发货), with the weight they then have.")
    english_negators: list[str] = Field(default=list(lexicon.ENGLISH_NEGATORS), description="Words that flip the next term in their clause.")
    chinese_negators: list[str] = Field(default=list(lexicon.CHINESE_NEGATORS), description="Words that flip the next term in their clause.")
    english_degree: dict[str, float] = Field(default=lexicon.ENGLISH_DEGREE, description="Degree words and the factor they multiply the next term by.")
    chinese_degree: dict[str, float] = Field(default=lexicon.CHINESE_DEGREE, description="Degree words and the factor they multiply the next term by.")
    contrasts: list[str] = Field(default=[*lexicon.ENGLISH_CONTRASTS, *lexicon.CHINESE_CONTRASTS], description="Words after which what came before counts half (but, 但是).")
    negation_factor: float = Field(default=0.8, gt=0, le=1, description="A negated term scores minus this times its weight.")
    softened_factor: float = Field(default=0.6, gt=0, le=1, description="A term after a negator and then a degree word ('not very') scores minus this times its weight.")
    threshold: float = Field(default=0.4, gt=0, description="The score at or above which a text is positive (at or below minus it, negative).")

    @cached_property
    def _terms(self) -> dict[str, float]:
        return {**self.english, **self.chinese, **{term.lower(): weight for term, weight in self.added.items()}}

    @cached_property
    def _negators(self) -> frozenset[str]:
        return frozenset(self.english_negators) | frozenset(self.chinese_negators)

    @cached_property
    def _degree(self) -> dict[str, float]:
        return {**self.english_degree, **self.chinese_degree}

    @cached_property
    def _longest_phrase(self) -> int:
        return max((len(term.split()) for term in (*self._terms, *self.negated_only)), default=1)

    @cached_property
    def _cutter(self) -> "jieba.Tokenizer":
        return tokenizer([*self.chinese, *self.added, *self.negated_only, *self.chinese_negators, *self.chinese_degree, *self.contrasts])


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: str  # one of LABELS
    score: float
    terms: tuple[str, ...]  # what scored, e.g. ("love", "not good", "不太满意")


def sentiment(text: str, rules: SentimentRules) -> Sentiment:
    words = [part for word in tokens(text, rules._cutter) for part in _parts(word, rules)]
    score, terms, before_contrast = 0.0, [], 0.0
    negated, degree, softened, modifiers, reach = False, 1.0, False, [], 0
    i = 0
    while i < len(words):
        word = words[i]
        term, length = _term(words, i, rules, negated)
        if word in _CLAUSE_ENDS or reach > _WINDOW:
            negated, degree, softened, modifiers, reach = False, 1.0, False, [], 0
        if word in _CLAUSE_ENDS:
            i += 1
            continue
        if word in rules.contrasts:
            before_contrast, score = before_contrast + score, 0.0
            before_contrast /= 2
        elif term is None and word in rules._negators:
            negated, modifiers, reach = not negated, [*modifiers, word], 0
        elif word in rules._degree and (term is None or _term(words, i + 1, rules, negated)[0] is not None):
            degree, softened, modifiers, reach = degree * rules._degree[word], negated, [*modifiers, word], 0
        elif term is not None:
            if negated and term in rules.negated_only:
                value = rules.negated_only[term]
            elif negated:
                value = -rules._terms[term] * (rules.softened_factor if softened else rules.negation_factor * degree)
            else:
                value = rules._terms[term] * degree
            if value:
                score += value
                terms.append(_joined([*modifiers, term]))
            negated, degree, softened, modifiers, reach = False, 1.0, False, [], 0
            i += length
            continue
        else:
            reach += 1
        i += 1
    score = round(score + before_contrast, 3)
    label = "positive" if score >= rules.threshold else "negative" if score <= -rules.threshold else "neutral"
    return Sentiment(label, score, tuple(terms))


def _term(words: list[str], i: int, rules: SentimentRules, negated: bool) -> tuple[str | None, int]:
    """The longest lexicon term starting at word ``i`` (or, after a negator, ``negated_only`` term),
    and how many words it spans."""
    for length in range(min(rules._longest_phrase, len(words) - i), 0, -1):
        phrase = _joined(words[i : i + length])
        if phrase in rules._terms or (negated and phrase in rules.negated_only):
            return phrase, length
    return None, 1


def _parts(word: str, rules: SentimentRules) -> list[str]:
    """A word the dictionary keeps whole around a modifier (很慢, 不值得, 太贵), as its parts when
    the rest is a term; any other word as it is."""
    if word in rules._terms or word in rules._negators or word in rules._degree:
        return [word]
    for cut in range(len(word) - 1, 0, -1):
        head, rest = word[:cut], word[cut:]
        if head in rules._negators or head in rules._degree:
            tail = _parts(rest, rules)
            if tail != [rest] or rest in rules._terms or rest in rules.negated_only:
                return [head, *tail]
    return [word]


def _joined(words: list[str]) -> str:
    """Words as one term: English with spaces, Chinese run together."""
    text = ""
    for word in words:
        text += (" " if text and text[-1].isascii() and word[0].isascii() else "") + word
    return text
