"""The sentiment analyser as it was before issue 22 (a substring lexicon, no segmentation, a negator
only right before a term), kept to print its figures beside the current one's in
``benchmarks/sentiment.py``."""

import re

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
ENGLISH = {
    "love": 2, "great": 2, "excellent": 2, "amazing": 2, "perfect": 2, "recommend": 2, "good": 1, "nice": 1, "fast": 1,
    "happy": 1, "thanks": 1, "helpful": 1, "beautiful": 1, "again": 1, "satisfied": 1,
    "bad": -1, "slow": -1, "late": -1, "expensive": -1, "disappointed": -2, "damaged": -2, "broken": -2, "terrible": -2,
    "awful": -2, "worst": -2, "angry": -2, "rude": -2, "never": -1, "still": -1, "refund": -1, "complaint": -1, "wrong": -1,
}  # fmt: skip
CHINESE = {
    "好": 1, "很好": 1, "喜欢": 2, "满意": 2, "推荐": 2, "精美": 1, "合适": 1, "快": 1, "谢谢": 1, "不错": 1, "还可以": 1, "赞": 2,
    "差": -2, "太差": -2, "失望": -2, "慢": -1, "贵": -1, "坏": -2, "破损": -2, "投诉": -2, "生气": -2, "退款": -1, "不回复": -2, "骗": -2,
}  # fmt: skip
ENGLISH_NEGATORS = frozenset(["not", "no", "never", "don't", "doesn't", "isn't", "wasn't", "didn't", "hardly"])
CHINESE_NEGATORS = ("没有", "不", "没", "别", "未")  # longest first
_CHINESE = re.compile("|".join(map(re.escape, sorted(CHINESE, key=len, reverse=True))))


def label(text: str) -> str:
    score = 0
    words = _WORD.findall(text.lower())
    for i, word in enumerate(words):
        weight = ENGLISH.get(word)
        if weight is not None:
            score += -weight if i and words[i - 1] in ENGLISH_NEGATORS else weight
    for match in _CHINESE.finditer(text):
        term, weight = match.group(), CHINESE[match.group()]
        before = text[max(0, match.start() - 2) : match.start()]
        negator = next((n for n in CHINESE_NEGATORS if before.endswith(n)), None)
        score += -weight if negator and not term.startswith(negator) else weight
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"
