"""The default sentiment lexicon (docs/domain.md: feedback gets a sentiment label), English and Chinese.

Written for this project (Apache-2.0, like the rest of the code; no third-party word list), for
short customer feedback about delivery, price, quality, service and apps. Weights: 2 strong
(excellent, 垃圾), 1 plain (good, 慢), 0.5 faint (fine, 一般). Phrases are words joined by a space
(English) or written together (Chinese). ``NEGATED_ONLY`` holds what says nothing when affirmed and
complains when denied: "it arrived" is neutral, "it never arrived" negative.
"""

ENGLISH = {
    # positive
    "love": 2, "loved": 2, "loves": 2, "great": 2, "excellent": 2, "amazing": 2, "awesome": 2, "fantastic": 2, "perfect": 2,
    "perfectly": 2, "wonderful": 2, "outstanding": 2, "superb": 2, "brilliant": 2, "recommend": 2, "recommended": 2, "best": 2,
    "delighted": 2, "impressed": 2, "impressive": 2, "exceeded": 2, "gorgeous": 2, "flawless": 2, "five stars": 2, "buy again": 2,
    "order again": 2, "good": 1, "nice": 1, "fast": 1, "quick": 1, "quickly": 1, "speedy": 1.5, "prompt": 1.5, "promptly": 1.5,
    "on time": 1.5, "early": 1, "happy": 1.5, "pleased": 1.5, "satisfied": 1.5, "glad": 1.5, "thanks": 0.5, "thank": 0.5, "helpful": 1.5,
    "friendly": 1.5, "polite": 1, "patient": 1.5, "professional": 1.5, "kind": 1, "beautiful": 1.5, "lovely": 1.5, "comfortable": 1.5,
    "sturdy": 1, "durable": 1.5, "solid": 1, "reliable": 1.5, "smooth": 1.5, "smoothly": 1.5, "easy": 1, "intuitive": 1.5,
    "convenient": 1.5, "affordable": 1.5, "bargain": 1.5, "worth": 1.5, "fair": 1, "reasonable": 1, "well": 0.5, "fresh": 1,
    "better": 1, "improved": 1, "fixed": 1, "resolved": 1, "solved": 1, "appreciate": 1.5, "enjoy": 1.5, "enjoyed": 1.5, "fun": 1,
    "fine": 0.5, "decent": 0.75, "ok": 0.25, "okay": 0.25, "cheap": 0.5, "works": 0.5, "worked": 0.5, "accurate": 1, "clean": 1,
    "clear": 1, "quality": 0.25, "value": 0.5, "efficient": 1.5, "responsive": 1.5, "generous": 1.5, "careful": 1, "carefully": 1,
    "well packed": 1.5, "smoother": 1.5, "thoughtful": 1.5, "handy": 1.5, "effective": 1.5, "quiet": 0.5, "easier": 1,
    "faster": 1, "cheaper": 0.5, "well made": 1.5, "like": 1, "liked": 1.5, "can't wait": 1.5,
    "looks like": 0, "like to": 0, "would like": 0, "feels like": 0, "seems like": 0, "sounds like": 0,
    # negative
    "bad": -1.5, "terrible": -2.5, "awful": -2.5, "horrible": -2.5, "worst": -2.5, "poor": -1.5, "poorly": -1.5, "disappointing": -2,
    "disappointed": -2, "disappointment": -2, "slow": -1, "slowly": -1, "late": -1.5, "delayed": -1.5, "delay": -1, "delays": -1,
    "expensive": -1, "overpriced": -2, "pricey": -1, "rip off": -2.5, "damaged": -2, "broken": -2, "broke": -1.5, "cracked": -1.5,
    "defective": -2, "faulty": -2, "scratched": -1.5, "missing": -1.5, "wrong": -1.5, "lost": -1.5, "fake": -2, "cheaply": -1.5,
    "flimsy": -1.5, "useless": -2, "waste": -2, "rude": -2, "unhelpful": -2, "ignored": -2, "ignoring": -2, "angry": -2, "annoyed": -1.5,
    "annoying": -1.5, "frustrated": -2, "frustrating": -2, "upset": -1.5, "unhappy": -2, "dissatisfied": -2, "unacceptable": -2.5,
    "ridiculous": -2, "crash": -2, "crashes": -2, "crashed": -2, "crashing": -2, "bug": -1, "bugs": -1, "buggy": -1.5, "glitch": -1.5,
    "freezes": -1.5, "froze": -1.5, "laggy": -1.5, "lag": -1, "confusing": -1.5, "complicated": -1, "difficult": -1, "problem": -1,
    "problems": -1, "issue": -0.75, "issues": -0.75, "complaint": -1.5, "complain": -1.5, "refund": -0.25, "scam": -2.5, "misleading": -2,
    "mediocre": -1, "meh": -1, "average": -0.5, "stale": -1.5, "smelly": -1.5, "smells": -1, "dirty": -1.5, "leaking": -1.5,
    "leaked": -1.5, "shrunk": -1.5, "faded": -1.5, "torn": -1.5, "ripped": -1.5, "hate": -2.5, "regret": -2, "sucks": -2, "mess": -1.5,
    "nightmare": -2.5, "spam": -1.5, "overcharged": -2, "charged twice": -2, "stuck": -1, "unreliable": -2, "still waiting": -1.5,
    "waiting": -0.5, "cold": -0.5, "tiny": -0.5, "fail": -1.5, "failed": -1.5, "fails": -1.5, "error": -1, "errors": -1,
    "incorrect": -1.5, "unusable": -2, "worse": -1.5, "hidden fees": -2, "dented": -1.5, "wasted": -2, "pathetic": -2.5, "nothing special": -0.5, "got nothing": -1.5,
    "received nothing": -1.5, "cancelled": -1, "went up": -1, "smaller": -0.5, "impatient": -2, "coming apart": -2, "fell apart": -2,
    "falling apart": -2, "disappeared": -1.5, "loud": -1, "leaks": -1.5, "stopped": -1.5,
}  # fmt: skip

CHINESE = {
    # positive
    "好": 1, "不错": 1.5, "满意": 2, "喜欢": 2, "推荐": 2, "棒": 2, "赞": 2, "点赞": 2, "完美": 2, "优秀": 2, "出色": 2, "惊喜": 2,
    "超值": 2, "实惠": 1.5, "划算": 1.5, "便宜": 1, "值": 1, "值得": 1.5, "物美价廉": 2, "性价比高": 2, "物超所值": 2, "快": 1,
    "迅速": 1.5, "及时": 1.5, "准时": 1.5, "神速": 2, "给力": 2, "耐心": 1.5, "热情": 1.5, "专业": 1.5, "周到": 1.5, "贴心": 2,
    "细心": 1.5, "礼貌": 1, "友好": 1.5, "靠谱": 1.5, "放心": 1.5, "舒服": 1.5, "舒适": 1.5, "好用": 1.5, "流畅": 1.5, "方便": 1.5,
    "清晰": 1, "精美": 1.5, "漂亮": 1.5, "好看": 1.5, "精致": 1.5, "结实": 1, "耐用": 1.5, "正品": 1, "新鲜": 1.5, "好吃": 1.5,
    "感谢": 0.75, "谢谢": 0.5, "开心": 1.5, "高兴": 1.5, "愉快": 1.5, "完好": 1.5, "完好无损": 2, "好评": 2, "回购": 1.5, "稳定": 1,
    "顺畅": 1.5, "高效": 1.5, "实用": 1, "合适": 1, "合身": 1, "一流": 2, "还行": 0.5, "还可以": 0.5, "可以": 0.25, "挺好": 1.5,
    "超赞": 2, "惊艳": 2, "到位": 1, "负责": 1.5, "省心": 1.5, "满分": 2, "五星": 2, "解决": 0.5, "清楚": 1, "干净": 1, "简单": 0.5,
    "好评如潮": 2, "太棒了": 2, "很棒": 2, "喜出望外": 2, "认真": 1.5, "用心": 1.5, "精准": 1, "优惠": 1, "实在": 1, "良心": 2,
    "厚道": 1.5, "质感": 1, "正宗": 1.5, "准确": 1, "齐全": 1, "严实": 1, "仔细": 1, "爱": 2, "牢固": 1, "支持": 1, "放心购买": 2, "到账": 0.5, "爱不释手": 2, "麻烦帮": 0, "麻烦查": 0, "麻烦您": 0, "麻烦你": 0, "好几": 0,
    "好多": 0, "好像": 0,
    # negative
    "差": -2, "很差": -2, "太差": -2, "差劲": -2, "垃圾": -2.5, "失望": -2, "不满": -2, "生气": -2, "愤怒": -2.5, "气愤": -2, "糟糕": -2,
    "烂": -2, "坑": -2, "坑人": -2, "骗": -2, "骗子": -2.5, "欺骗": -2, "慢": -1, "贵": -1, "昂贵": -1, "坏": -1.5, "坏了": -2,
    "破损": -2, "破": -1, "损坏": -2, "碎": -1.5, "碎了": -2, "漏": -1.5, "假货": -2.5, "劣质": -2, "粗糙": -1.5, "掉色": -1.5,
    "褪色": -1.5, "起球": -1.5, "变形": -1.5, "异味": -1.5, "臭": -1.5, "难用": -2, "难吃": -2, "难看": -1.5, "卡顿": -1.5, "卡": -1,
    "闪退": -2, "崩溃": -2, "报错": -1.5, "延迟": -1, "延误": -1.5, "敷衍": -2, "冷漠": -2, "不耐烦": -2, "推诿": -2, "踢皮球": -2,
    "无语": -1.5, "麻烦": -1, "繁琐": -1.5, "复杂": -1, "投诉": -2, "退款": -0.25, "问题": -1, "后悔": -2, "郁闷": -1.5, "心累": -2,
    "浪费": -1.5, "错": -1, "错误": -1, "发错": -2, "错发": -2, "漏发": -2, "少发": -2, "丢": -1.5, "丢件": -2, "丢失": -2,
    "一般": -0.5, "凑合": -0.5, "勉强": -0.75, "失败": -1.5, "脏": -1.5, "旧": -1, "过期": -2, "虚假": -2, "乱": -1, "混乱": -1.5,
    "久": -1, "催": -1, "无法": -1, "失效": -1.5, "乱扣费": -2, "扣费": -1, "霸王条款": -2, "骚扰": -2, "涨价": -1, "缩水": -1.5,
    "有待提高": -1, "有待改进": -1, "恶心": -2, "离谱": -2, "过分": -1.5, "质量问题": -2, "态度差": -2, "慢吞吞": -2, "拖": -1,
    "拖延": -1.5, "bug": -1.5, "不靠谱": -2, "烦": -1.5, "烦人": -1.5, "吐槽": -1.5, "坑爹": -2, "残次品": -2, "瑕疵": -1.5,
    "磨损": -1.5, "划痕": -1.5, "污渍": -1.5, "脱线": -1.5, "开线": -1.5, "缺": -1, "短缺": -1, "漏水": -2, "断": -1, "黑心": -2.5,
    "不值": -2, "退货": -0.25, "遗憾": -1.5, "可惜": -1, "不满意": -2, "不好用": -2, "不好": -1.5, "费劲": -1.5, "啰嗦": -1,
    "迟迟": -1.5, "石沉大海": -2, "忽悠": -2, "等了": -0.5, "苦等": -2, "耽误": -1.5, "傲慢": -2, "粗鲁": -2, "挂断": -1.5, "没法用": -2, "不能用": -2, "没收到": -1.5, "扔": -1.5, "开胶": -2, "骂人": -2.5, "恶劣": -2,
    "二手": -1.5, "噪音": -1, "弱": -1,
}  # fmt: skip

NEGATED_ONLY = {
    "arrive": -1.5, "arrived": -1.5, "received": -1.5, "work": -1.5, "working": -1.5, "respond": -1.5, "responded": -1.5,
    "reply": -1.5, "replied": -1.5, "answer": -1.5, "answered": -1.5, "help": -1.5, "show up": -1.5, "showed up": -1.5, "load": -1.5,
    "open": -1, "match": -1, "fit": -1, "fits": -1, "expected": -1.5, "described": -1.5, "refunded": -1.5, "shipped": -1.5, "wait": -1, "came": -1.5, "processed": -1.5, "sent": -1, "come": -1, "tell": -1, "telling": -1,
    "到": -1.5, "收到": -1.5, "到货": -1.5, "回复": -1.5, "回应": -1.5, "理": -1.5, "理会": -1.5, "处理": -1, "发货": -1.5, "送到": -1.5,
    "打开": -1.5, "登录": -1.5, "登陆": -1.5, "动": -1, "退": -1, "联系上": -1.5, "接": -1.5, "打电话": -1, "通知": -1, "回": -1.5, "解决": -1.5, "符合": -1.5,
    "一样": -1, "匹配": -1, "更新": -1, "显示": -1, "到账": -1.5, "兑现": -1.5,
}  # fmt: skip

ENGLISH_NEGATORS = (
    "not", "no", "never", "nothing", "nobody", "none", "hardly", "barely", "neither", "nor", "without", "don't", "doesn't", "didn't",
    "isn't", "wasn't", "aren't", "weren't", "won't", "wouldn't", "can't", "cannot", "couldn't", "haven't", "hasn't", "hadn't",
    "shouldn't", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant", "wont", "havent", "hasnt",
)  # fmt: skip
CHINESE_NEGATORS = ("不", "没", "没有", "无", "未", "别", "毫无", "并不", "从不", "从没", "不是", "没人", "不够", "绝不", "不再", "不会", "不能", "还没", "还没有", "尚未", "并没有", "都没", "也没", "都不", "也不", "从来不", "从来没有", "从来没", "从未")  # fmt: skip

ENGLISH_DEGREE = {
    "very": 1.5, "really": 1.5, "so": 1.5, "extremely": 2, "super": 1.8, "incredibly": 2, "absolutely": 2, "totally": 1.5, "completely": 1.5,
    "quite": 1.2, "pretty": 1.1, "too": 1.5, "rather": 1.1, "highly": 1.5, "most": 1.5, "slightly": 0.5, "somewhat": 0.5, "kinda": 0.5,
    "bit": 0.5, "little": 0.5, "truly": 1.5, "utterly": 2, "insanely": 2, "seriously": 1.5, "way": 1.5, "unbelievably": 2, "such": 1.3,
}  # fmt: skip
CHINESE_DEGREE = {
    "非常": 2, "特别": 2, "十分": 2, "极其": 2, "极": 2, "超": 1.8, "超级": 2, "太": 1.8, "很": 1.3, "挺": 1.2, "蛮": 1.2, "真": 1.5,
    "真是": 1.5, "真的": 1.5, "好": 1.5, "有点": 0.6, "有点儿": 0.6, "有些": 0.6, "稍微": 0.5, "稍": 0.5, "略": 0.5, "略微": 0.5,
    "比较": 1, "更": 1.3, "最": 2, "越来越": 1.5, "相当": 1.5, "巨": 2, "贼": 1.8, "实在": 1.5, "简直": 1.8, "如此": 1.5, "这么": 1.3,
    "那么": 1.3, "过于": 1.5, "格外": 1.8, "还算": 0.8, "也太": 1.8, "一点": 0.5, "一点也": 1, "完全": 1.5, "根本": 1.5,
}  # fmt: skip

ENGLISH_CONTRASTS = ("but", "however", "though", "although", "yet", "except")
CHINESE_CONTRASTS = ("但", "但是", "不过", "可是", "然而", "只是", "却")
