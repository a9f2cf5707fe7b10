"""Topics of free-text feedback (delivery, price, quality, service, ...), by keywords in English and Chinese.

A text is about every topic one of whose keywords it contains as a word (Chinese cut into words
by ``projections.segmentation``, so 价 in 评价 is not about price). A text may have several
topics or none. The topics and their keywords are configuration; the defaults are written for
this project (docs/domain.md: feedback gets a sentiment label and topic, and is trended).
"""

from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from projections.segmentation import tokenizer, tokens

if TYPE_CHECKING:
    import jieba

DEFAULT_TOPICS = {
    "delivery": [
        "delivery", "deliver", "delivered", "shipping", "shipped", "ship", "courier", "parcel", "package", "tracking", "arrived",
        "arrive", "driver", "depot", "dispatch", "locker", "pickup point", "delivery man", "快递", "物流", "发货", "配送", "送货", "到货",
        "包裹", "快递员", "快递小哥", "送货师傅", "签收", "驿站", "次日达", "送到", "派送", "运输", "冷链",
    ],
    "price": [
        "price", "prices", "priced", "expensive", "cheap", "cheaper", "cost", "costs", "discount", "coupon", "promo", "sale", "money",
        "overpriced", "bargain", "fee", "fees", "charged", "pricey", "affordable", "value for money", "price match", "价格", "价钱",
        "贵", "便宜", "性价比", "优惠", "优惠券", "折扣", "降价", "涨价", "划算", "实惠", "保价", "扣费", "钱", "会员价", "活动价", "超值",
        "价", "物美价廉", "物超所值", "不值",
    ],
    "quality": [
        "quality", "broken", "broke", "damaged", "defective", "faulty", "material", "fabric", "stitching", "build", "seams", "durable",
        "sturdy", "flimsy", "cracked", "scratched", "shrank", "shrunk", "fell apart", "stale", "fresh", "质量", "品质", "做工", "材质",
        "面料", "用料", "坏", "坏了", "破损", "瑕疵", "起球", "掉色", "缩水", "开胶", "结实", "耐用", "质感", "正品", "假货", "新鲜",
        "过期", "粗糙", "线头",
    ],
    "service": [
        "service", "support", "agent", "staff", "customer service", "helpdesk", "manager", "rude", "helpful", "polite", "callback",
        "on hold", "chat", "called", "客服", "服务", "售后", "态度", "店员", "投诉", "回复", "电话", "耐心", "敷衍", "踢皮球",
    ],
    "returns": ["return", "returns", "refund", "refunded", "exchange", "replacement", "退货", "退款", "换货", "退换", "退回", "补偿"],
    "app": [
        "app", "website", "site", "login", "log in", "logs me out", "checkout", "update", "crash", "crashes", "password", "search",
        "应用", "小程序", "界面", "登录", "闪退", "卡顿", "更新", "系统", "网站", "报错", "结算",
    ],
    "packaging": ["packaging", "packed", "box", "wrapping", "包装", "外包装", "包装盒"],
}  # fmt: skip


class TopicRules(BaseModel):
    """Topic → keywords (lower case; English phrases with spaces)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: dict[str, list[str]] = Field(default=DEFAULT_TOPICS, description="Each topic and the words or phrases that put a text under it.")

    @cached_property
    def _by_keyword(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for topic, keywords in self.topics.items():
            for keyword in keywords:
                found.setdefault(keyword.lower(), []).append(topic)
        return found

    @cached_property
    def _longest(self) -> int:
        return max((len(keyword.split()) for keyword in self._by_keyword), default=1)

    @cached_property
    def _cutter(self) -> "jieba.Tokenizer":
        return tokenizer(self._by_keyword)


def topics(text: str, rules: TopicRules) -> tuple[str, ...]:
    """The topics of ``text``, in the order of ``rules.topics``."""
    words = tokens(text, rules._cutter)
    found: set[str] = set()
    for i in range(len(words)):
        for length in range(1, min(rules._longest, len(words) - i) + 1):
            found.update(rules._by_keyword.get(" ".join(words[i : i + length]), ()))
    return tuple(topic for topic in rules.topics if topic in found)
