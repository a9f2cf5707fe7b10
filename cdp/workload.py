"""Synthetic multi-channel touchpoints (docs/domain.md §1-§9) for the demo, the tests and the benchmarks.

``generate`` streams envelope dicts (the JSON form of ``schemas.Envelope``) for people who browse
the website and app, buy online, in store and through sales reps, follow the brand on social
media, open service tickets and answer surveys. Some are prospects who never buy, some churn and
some of those are won back; a few belong to an enterprise account.

Identities are fragmented as in real data: a visitor is an anonymous id until a sign-up or a guest
checkout links it to an email (and often the phone), orders carry email and/or phone, the till
knows only the phone, and social events carry only a handle unless a message or a service chat
also names the phone; some handles are never linked. Over-merge traps are included: households sharing one email
and a placeholder phone typed in at the till for unrelated customers.

Consent (docs/domain.md §13) comes from every channel: a cookie banner on the first visit (analytics,
personalisation; some expire after a year), opt-in boxes at sign-up (email ~55 %, SMS ~25 %),
B2B contacts in the CRM, survey forms (third-party sharing), "do not call" requests on the phone;
some customers later withdraw, unsubscribe (suppressed) or their address bounces.

The period ends at the start of the ``end`` day (today by default), so the demo's customers are
judged as of now: events sent by hand after it (the ``cdp start`` curl, the README's tour) are the
latest, not a year late. Each customer has its own ``random.Random``, so the stream depends only
on the arguments (pass ``end`` for the same bytes on every day). The person behind every event is
the customer index in its message id (``{seed}-{index}-{n}``), the ground truth against which
identity resolution can be checked.
"""

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from operator import itemgetter

from schemas import PAYLOAD_BY_EVENT_TYPE

DAY = 86_400
HOUR = 3_600
GROUP_SIZE = 64  # customers generated together; their events are interleaved by time
PLACEHOLDER_PHONE = "+10000000000"
HOUSEHOLD_EVERY = 50  # customers 50k and 50k+1 share a family email
ACCOUNT_EVERY = 40  # enterprise customers among 40 consecutive indices share an account
ACCOUNT_EVENT_TYPES = frozenset({"identified", "form_submitted", "lead_created", "deal_stage_changed", "order_placed"})
KIND = {name: payload.source_kind for name, payload in PAYLOAD_BY_EVENT_TYPE.items()}

CN_SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"), ("周", "zhou"))
CN_GIVEN = {
    "female": (("芳", "fang"), ("娜", "na"), ("静", "jing"), ("婷", "ting"), ("丽", "li"), ("雪", "xue")),
    "male": (("伟", "wei"), ("磊", "lei"), ("强", "qiang"), ("杰", "jie"), ("洋", "yang"), ("军", "jun")),
}
CN_CITIES = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "Shanghai", "Beijing")
WEST_FIRST = {"female": ("Mary", "Emma", "Olivia", "Sarah", "Linda", "Sofia"), "male": ("James", "John", "David", "Michael", "Daniel", "Lucas")}
WEST_LAST = ("Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Garcia")
WEST_PLACES = (("New York", "US"), ("San Francisco", "US"), ("Chicago", "US"), ("Austin", "US"), ("London", "GB"), ("Toronto", "CA"), ("Sydney", "AU"))
AGE_BANDS = ("18-24",) * 2 + ("25-34",) * 4 + ("35-44",) * 3 + ("45-54",) * 2 + ("55-64", "65+")
OCCUPATIONS = ("engineer", "teacher", "student", "designer", "manager", "nurse", "sales", "freelancer", "retired", "civil servant")
INCOME_BANDS = ("low", "lower_middle", "middle", "middle", "upper_middle", "high")
PRODUCTS = (  # id, name, category, price in USD
    ("SKU-101", "Hydrating Serum", "skincare", 38.0), ("SKU-102", "Gentle Cleanser", "skincare", 15.0), ("SKU-103", "Sun Cream SPF50", "skincare", 22.0),
    ("SKU-201", "Linen Shirt", "apparel", 49.0), ("SKU-202", "Down Jacket", "apparel", 189.0), ("SKU-203", "Running Shoes", "apparel", 119.0),
    ("SKU-301", "Wireless Earbuds", "electronics", 129.0), ("SKU-302", "Smart Watch", "electronics", 299.0), ("SKU-303", "Power Bank", "electronics", 29.0),
    ("SKU-401", "Ceramic Teapot", "home", 45.0), ("SKU-402", "Bamboo Towels", "home", 19.0), ("SKU-501", "Oolong Tea Gift Box", "food", 35.0),
    ("SKU-502", "Mooncake Set", "food", 28.0), ("SKU-503", "Coffee Beans 1kg", "food", 24.0),
)
PAGES = (("/", "Home"), ("/new-arrivals", "New arrivals"), ("/sale", "Sale"), ("/blog/style-guide", "Style guide"), ("/stores", "Our stores"), ("/help", "Help centre"))
REFERRERS = ("https://www.baidu.com/", "https://www.google.com/", "https://weibo.com/", "https://www.linkedin.com/", None, None)
CAMPAIGNS = ("spring_sale", "618_festival", "singles_day", "black_friday", "newsletter", "webinar")
APP_SCREENS = ("home", "catalogue", "cart", "orders", "rewards")
APP_ACTIONS = ("coupon_claimed", "video_played", "points_checked", "store_located")
SOCIAL_ACTIONS = ("liked",) * 8 + ("commented",) * 4 + ("shared",) * 3 + ("mentioned",) * 2 + ("message_sent",) * 3
TEXTS = {
    "positive": ("Love it, will buy again!", "质量很好，推荐！", "Fast delivery, great service.", "包装很精美，送人很合适"),
    "neutral": ("When is the next sale?", "请问有实体店吗？", "Does this come in blue?", "还可以，价格有点贵"),
    "negative": ("Order arrived damaged.", "客服一直不回复，很失望", "Refund still not processed!", "质量太差了"),
}
TOPICS = ("delivery", "price", "quality", "service", "app")
TICKET_CATEGORIES = ("delivery", "billing", "product_defect", "returns", "account")
TICKET_CHANNELS = ("phone", "email", "chat")
DEAL_STAGES = ("qualification", "proposal", "negotiation")
MOODS = (1,) * 8 + (0,) * 9 + (-1,) * 3  # happy 40 %, neutral 45 %, unhappy 15 %
SURVEYS = ("nps",) * 4 + ("csat",) * 3 + ("csi", "feedback", "feedback")


def _table(weights: dict) -> tuple:
    """A choice table: each value repeated by its weight, for ``rng.choice``."""
    return tuple(value for value, weight in weights.items() for _ in range(weight))


NPS = {
    1: _table({10: 40, 9: 35, 8: 15, 7: 7, 6: 3}),
    0: _table({10: 10, 9: 15, 8: 25, 7: 22, 6: 12, 5: 8, 4: 4, 3: 2, 2: 1, 1: 1}),
    -1: _table({7: 8, 6: 14, 5: 18, 4: 16, 3: 14, 2: 12, 1: 8, 0: 10}),
}
CSAT = {1: _table({5: 60, 4: 30, 3: 10}), 0: _table({5: 20, 4: 40, 3: 25, 2: 10, 1: 5}), -1: _table({4: 10, 3: 25, 2: 35, 1: 30})}
SENTIMENT = {
    1: _table({"positive": 14, "neutral": 5, "negative": 1}),
    0: _table({"positive": 6, "neutral": 11, "negative": 3}),
    -1: _table({"positive": 2, "neutral": 6, "negative": 12}),
}


class _Clock:
    """ISO 8601 UTC text of a whole number of seconds after ``start``, with the date part cached."""

    def __init__(self, start: datetime):
        if start.tzinfo is None or start.microsecond:
            raise ValueError("start must be timezone-aware and a whole second")
        self.base = int(start.timestamp())
        self.dates: dict[int, str] = {}

    def __call__(self, t: int) -> str:
        day, second = divmod(self.base + t, DAY)
        date = self.dates.get(day)
        if date is None:
            date = self.dates[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%dT")
        return f"{date}{second // HOUR:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


class _Customer:
    """One synthetic person: identities, habits, and the events they cause over the period."""

    def __init__(self, index: int, seed: int, horizon: int, clock: _Clock):
        r = self.rng = random.Random(f"{seed}/{index}")
        self.prefix, self.horizon, self.clock = f"{seed}-{index}", horizon, clock
        self.out: list[tuple[int, dict]] = []
        self.n = self.codes = 0
        self.chinese = r.random() < 0.6
        self.currency, self.rate = ("CNY", 7.0) if self.chinese else ("USD", 1.0)
        slug, self.traits = self._person()
        domain = "example.cn" if self.chinese else "example.com"
        household = index % HOUSEHOLD_EVERY < 2
        self.email = f"family{seed}.{index // HOUSEHOLD_EVERY}@example.net" if household else f"{slug}{index}@{domain}"
        self.phone = f"+86139{index:08d}" if self.chinese else f"+1555{index:07d}"
        self.till_phone = PLACEHOLDER_PHONE if r.random() < 0.02 else self.phone
        self.anon, self.user_id = f"{r.getrandbits(64):016x}", f"u{seed}-{index}"
        self.app_anon: str | None = None  # set for app users when they sign up
        platforms = ("wechat", "weibo", "douyin") if self.chinese else ("x", "linkedin")
        self.handles = [{"platform": p, "handle": f"{slug}_{index}"} for p in r.sample(platforms, r.choice((0, 0, 1, 1, 1, 2)))]
        self.links_social = r.random() < 0.75
        self.mood = r.choice(MOODS)
        self.activity = min(r.paretovariate(1.5) - 0.7, 30.0)  # 0.3 to 30, median 0.9: a few are very active
        self.interval = r.lognormvariate(math.log(180), 0.5) * DAY / self.activity**0.8
        self.store_share = r.choice((0.0, 0.0, 0.1, 0.3, 0.8))
        self.account = f"acct-{seed}-{index // ACCOUNT_EVERY}"
        self.signed_up_at = math.inf
        self.known = False  # whether the web anonymous id has been linked to the email
        self.windows: list[tuple[float, float]] = []

    def _person(self) -> tuple[str, dict]:
        """An email slug and the declared traits: a plausible Chinese or Western person."""
        r = self.rng
        gender = r.choice(("female", "male"))
        if self.chinese:
            (surname, surname_py), (given, given_py) = r.choice(CN_SURNAMES), r.choice(CN_GIVEN[gender])
            name, slug, (city, country) = surname + given, f"{surname_py}.{given_py}", (r.choice(CN_CITIES), "CN")
        else:
            first, last = r.choice(WEST_FIRST[gender]), r.choice(WEST_LAST)
            name, slug, (city, country) = f"{first} {last}", f"{first}.{last}".lower(), r.choice(WEST_PLACES)
        traits = {"name": name, "gender": gender, "age_band": r.choice(AGE_BANDS), "city": city, "country": country,
                  "occupation": r.choice(OCCUPATIONS), "income_band": r.choice(INCOME_BANDS)}
        return slug, traits

    def simulate(self) -> list[tuple[int, dict]]:
        """The customer's whole story: acquisition by role, then purchases, browsing and social life."""
        r = self.rng
        first = r.random() * self.horizon * 0.9
        self.windows = self._windows(first)
        role = r.random()
        if role < 0.15:  # anonymous visitor: never identifies
            self.account = None
        elif role < 0.22:  # social fan: known by a handle (and the phone, if a message names it)
            self.account = None
            self.handles = self.handles or [{"platform": "weibo" if self.chinese else "x", "handle": f"fan_{self.prefix}"}]
        elif role < 0.34:  # lead who never buys
            self.account = None if r.random() < 0.7 else self.account
            self.visit(first, r.random() < 0.4)
            self.lead(first, won=False)
        elif role < 0.42:  # enterprise buyer
            self.visit(first, True)
            self.purchases(self.lead(first, won=True))
        else:  # individual shopper
            self.account = None
            self.visit(first, r.random() < 0.7)
            self.purchases(first + r.uniform(0.01, 5) * DAY)
        self.browse(1 if role < 0.15 else 0)
        self.socialise()
        return self.out

    def _windows(self, first: float) -> list[tuple[float, float]]:
        """Active periods: usually one; churners go quiet for over 180 days, and some come back."""
        r = self.rng
        if r.random() >= 0.25:
            return [(first, self.horizon)]
        stop = first + r.uniform(20, 150) * DAY
        back = stop + r.uniform(190, 320) * DAY
        return [(first, min(stop, self.horizon))] + ([(back, self.horizon)] if back < self.horizon and r.random() < 0.5 else [])

    def when(self) -> float:
        """A random moment in one of the active periods."""
        a, b = self.rng.choice(self.windows)
        return self.rng.uniform(a, b)

    def emit(self, t: float, event_type: str, source: str, ids: dict, props: dict, traits: dict | None = None, kind: str | None = None) -> None:
        """Records one envelope, unless it falls outside the period; ``kind`` overrides the event type's usual source kind."""
        if not 0 <= t < self.horizon:
            return
        self.n += 1
        if self.account is not None and event_type in ACCOUNT_EVENT_TYPES:
            ids["account_id"] = self.account
        self.out.append((int(t), {
            "message_id": f"{self.prefix}-{self.n}", "event_type": event_type, "source_kind": kind or KIND[event_type],
            "source_name": source, "occurred_at": self.clock(int(t)), "identifiers": ids, "traits": traits or {},
            "properties": props, "context": {"locale": "zh-CN" if self.chinese else "en-US"},
        }))

    def code(self, kind: str) -> str:
        """A new business id (order, cart, ticket) of this customer."""
        self.codes += 1
        return f"{kind}-{self.prefix}-{self.codes}"

    def web_ids(self, t: float, app: bool) -> dict:
        """A visit is known by its device's anonymous id, plus the user id once signed up."""
        ids = {"anonymous_id": self.app_anon if app else self.anon}
        if t >= self.signed_up_at:
            ids["user_id"] = self.user_id
        return ids

    def session(self, t: float, depth: int, product: tuple | None = None) -> None:
        """A website or app visit: a page, then maybe a product view and an add to cart."""
        r = self.rng
        app = self.app_anon is not None and r.random() < 0.5
        product = product or r.choice(PRODUCTS)
        if app:
            self.emit(t, "screen_viewed", "app", self.web_ids(t, app), {"name": r.choice(APP_SCREENS)})
        else:
            path, title = r.choice(PAGES)
            page = {"url": f"https://shop.example.com{path}", "path": path, "title": title, "referrer": r.choice(REFERRERS)}
            self.emit(t, "page_viewed", "web", self.web_ids(t, app), page)
        source, price = "app" if app else "web", round(product[3] * self.rate, 2)
        if depth == 0 and r.random() < 0.3:
            self.emit(t + 40, "event_tracked", source, self.web_ids(t, app), {"name": r.choice(APP_ACTIONS)})
        if depth >= 1:
            viewed = {"product_id": product[0], "name": product[1], "category": product[2], "price": price, "currency": self.currency}
            self.emit(t + r.uniform(10, 120), "product_viewed", source, self.web_ids(t, app), viewed)
        if depth >= 2:
            cart = {"product_id": product[0], "cart_id": self.code("C"), "quantity": 1, "price": price, "currency": self.currency}
            self.emit(t + r.uniform(120, 300), "product_added_to_cart", source, self.web_ids(t, app), cart)

    def visit(self, t: float, sign_up: bool) -> None:
        """The first visit, maybe with a sign-up that links the anonymous id to the email, with traits."""
        r = self.rng
        self.session(t, r.choice((0, 1)))
        if r.random() < 0.6:
            self.cookie_banner(t + 5)
        if not sign_up:
            return
        self.signed_up_at, self.known = t + 300, True
        self.app_anon = f"{r.getrandbits(64):016x}" if r.random() < 0.4 else None
        ids = {"anonymous_id": self.anon, "user_id": self.user_id, "email": self.email}
        self.emit(t + 300, "signed_up", "web", dict(ids), {"method": r.choice(("email", "phone", "wechat"))})
        self.emit(t + 301, "identified", "web", ids | ({"phone": self.phone} if r.random() < 0.7 else {}), {}, dict(self.traits))
        if self.account is not None:  # Segment group: the person works for the account
            self.emit(t + 302, "grouped", "web", {"user_id": self.user_id, "account_id": self.account}, {"group_id": self.account})
        if self.app_anon is not None:  # Segment alias: the app's device id becomes the user id
            self.emit(t + 303, "aliased", "app", {"anonymous_id": self.app_anon, "user_id": self.user_id}, {"previous_id": self.app_anon})
        for purpose, rate, contact in (("email_marketing", 0.55, {"email": self.email}), ("sms_marketing", 0.25, {"phone": self.phone})):
            if r.random() < rate:
                self.emit(t + 302, "consent_given", "web", {"user_id": self.user_id} | contact, {"purpose": purpose, "channel": "signup_form", "wording_version": "2025-01"})
                self.unsubscribe(t + 302, purpose, contact)

    def cookie_banner(self, t: float) -> None:
        """A consent manager's choice on the first visit; a third of the consents lapse after a year."""
        r = self.rng
        choice = {"analytics": r.random() < 0.7, "personalisation": r.random() < 0.45}
        if r.random() < 0.33 and any(choice.values()):
            for purpose in (p for p, given in choice.items() if given):
                props = {"purpose": purpose, "channel": "cookie_banner", "expires_at": self.clock(int(t) + 365 * DAY)}
                self.emit(t, "consent_given", "web", {"anonymous_id": self.anon}, props)
            return
        self.emit(t, "consent_preferences_updated", "web", {"anonymous_id": self.anon}, {"preferences": choice, "channel": "cookie_banner"})

    def unsubscribe(self, t: float, purpose: str, contact: dict) -> None:
        """Some who opted in change their mind later: a withdrawal in the preference centre, an unsubscribe link, a bounce."""
        r = self.rng
        fate = r.random()
        later = t + r.uniform(10, 300) * DAY
        if fate < 0.08:
            self.emit(later, "consent_withdrawn", "web", dict(contact), {"purpose": purpose, "channel": "preference_centre"})
        elif fate < 0.12:
            self.emit(later, "identifier_suppressed", "esp", dict(contact), {"purpose": purpose, "reason": "unsubscribe"})
        elif fate < 0.13:
            self.emit(later, "identifier_suppressed", "esp", dict(contact), {"purpose": "all", "reason": "bounce"}, kind="service")
        elif fate < 0.135:
            self.emit(later, "identifier_unsuppressed", "operator", dict(contact), {"purpose": purpose, "note": "re-subscribed by phone"}, kind="service")

    def lead(self, t: float, won: bool) -> float:
        """A web form, a CRM lead and maybe a deal; returns when a won deal closes."""
        r = self.rng
        fields = {"email": self.email, "interest": r.choice(TOPICS)}
        self.emit(t + 200, "form_submitted", "web", {"anonymous_id": self.anon, "email": self.email}, {"form_id": "contact-sales", "fields": fields})
        self.emit(t + r.uniform(1, 48) * HOUR, "lead_created", "crm", {"email": self.email}, {"lead_id": f"L-{self.prefix}", "campaign": r.choice(CAMPAIGNS)})
        if r.random() < 0.5:
            consent = {"purpose": "email_marketing", "channel": "sales_call", "legal_basis": "legitimate_interests"}
            self.emit(t + 2 * DAY, "consent_given", "crm", {"email": self.email}, consent, kind="sales")
        if not won and r.random() < 0.6:
            return t
        deal, amount, previous = f"D-{self.prefix}", round(r.lognormvariate(math.log(5000), 0.8) * self.rate, 2), None
        for stage in DEAL_STAGES + ("won" if won else "lost",):
            t += r.uniform(3, 20) * DAY
            props = {"deal_id": deal, "stage": stage, "previous_stage": previous, "amount": amount, "currency": self.currency}
            self.emit(t, "deal_stage_changed", "crm", {"email": self.email}, props)
            previous = stage
        return t

    def purchases(self, t: float) -> None:
        """Purchases at the customer's usual interval in each active period; a comeback starts with one."""
        r = self.rng
        for a, b in self.windows:
            t = max(t, a)
            while t < b:
                self.purchase(t)
                t += self.interval * r.lognormvariate(0, 0.4)

    def purchase(self, t: float) -> None:
        """One order (online, in store or through a rep) and what may follow it."""
        r = self.rng
        chosen = r.sample(PRODUCTS, r.choice((1, 1, 1, 2, 3)))
        items = [{"product_id": p[0], "name": p[1], "category": p[2], "quantity": r.choice((1, 1, 1, 2)), "price": round(p[3] * self.rate, 2)} for p in chosen]
        order = {"order_id": self.code("O"), "amount": round(sum(i["price"] * i["quantity"] for i in items), 2), "currency": self.currency, "items": items}
        if self.account is not None and r.random() < 0.5:
            self.emit(t, "order_placed", "crm", {"email": self.email}, order | {"channel": "direct", "salesperson": r.choice(("Li Na", "Tom Reed", "Zhao Lei"))})
        elif r.random() < self.store_share:
            ids = {"phone": self.till_phone} | ({"email": self.email} if r.random() < 0.2 else {})
            self.emit(t, "store_purchase_made", "pos", ids, order | {"store_id": f"store-{r.randrange(1, 40)}"})
        else:
            self.session(t - r.uniform(300, 1800), 2, chosen[0])
            if not self.known:  # a guest checkout links the browser to the email and phone
                self.known = True
                self.emit(t - 60, "identified", "web", {"anonymous_id": self.anon, "email": self.email, "phone": self.phone}, {}, dict(self.traits))
            ids = r.choice(({"email": self.email, "phone": self.phone}, {"email": self.email}, {"email": self.email}, {"phone": self.phone}))
            self.emit(t, "order_placed", "shop", ids, order | {"channel": r.choice(("online", "online", "app", "marketplace"))})
        if r.random() < 0.05:
            refund = {"order_id": order["order_id"], "amount": order["amount"], "currency": self.currency, "reason": r.choice(("damaged", "wrong size", "changed mind"))}
            self.emit(t + r.uniform(2, 20) * DAY, "order_refunded", "shop", {"email": self.email}, refund)
        if r.random() < (0.2 if self.mood < 0 else 0.06):
            self.ticket(t + r.uniform(1, 10) * DAY)
        if r.random() < 0.2:
            self.survey(t + r.uniform(1, 7) * DAY, r.choice(SURVEYS))

    def ticket(self, t: float) -> None:
        """A service ticket: usually answered within hours, sometimes past the 24 h SLA and escalated."""
        r = self.rng
        ticket, channel = self.code("TK"), r.choice(TICKET_CHANNELS)
        if channel == "chat" and self.handles and self.links_social:
            ids = {"social": [dict(self.handles[0])], "phone": self.phone}
        else:
            ids = {"phone": self.till_phone} if channel == "phone" else {"email": self.email}
        complaint = r.random() < (0.6 if self.mood < 0 else 0.25)
        opened = {"ticket_id": ticket, "channel": channel, "category": r.choice(TICKET_CATEGORIES), "is_complaint": complaint,
                  "priority": r.choice(("normal", "high", "urgent") if complaint else ("low", "normal", "normal", "high")),
                  "subject": r.choice(TEXTS["negative" if complaint else "neutral"])}
        self.emit(t, "ticket_opened", "helpdesk", ids, opened)
        if channel == "phone" and r.random() < 0.1:
            self.emit(t + 60, "consent_withdrawn", "helpdesk", {"phone": self.phone}, {"purpose": "phone_marketing", "channel": "call_centre"}, kind="service")
        late = r.random() < 0.12
        responded = t + (r.uniform(24.5, 96) if late else min(r.expovariate(1 / 3), 23)) * HOUR
        self.emit(responded, "ticket_first_responded", "helpdesk", dict(ids), {"ticket_id": ticket, "agent": r.choice(("agent-01", "agent-02", "agent-07"))})
        if complaint and (late or r.random() < 0.2):
            self.emit(min(t + 24 * HOUR, responded + HOUR), "ticket_escalated", "helpdesk", dict(ids), {"ticket_id": ticket, "level": r.choice((1, 1, 2)), "reason": "sla" if late else "customer request"})
        resolved = responded + r.expovariate(1 / 36) * HOUR
        self.emit(resolved, "ticket_resolved", "helpdesk", dict(ids), {"ticket_id": ticket, "resolution": "fixed", "root_cause": r.choice(TICKET_CATEGORIES)})
        if r.random() < 0.1:
            reopened = resolved + r.uniform(1, 5) * DAY
            self.emit(reopened, "ticket_reopened", "helpdesk", dict(ids), {"ticket_id": ticket, "reason": "issue persists"})
            resolved = reopened + r.uniform(0.5, 3) * DAY
            self.emit(resolved, "ticket_resolved", "helpdesk", dict(ids), {"ticket_id": ticket, "resolution": "replaced", "root_cause": "product_defect"})
        if r.random() < 0.4:
            self.survey(resolved + DAY, "csat")

    def survey(self, t: float, kind: str) -> None:
        """One survey answer, by email, scored according to the customer's mood."""
        r, mood = self.rng, self.mood
        survey_id, comment = f"{kind}-{self.clock(int(t))[:7]}", r.choice(TEXTS[r.choice(SENTIMENT[mood])]) if r.random() < 0.3 else ""
        if kind == "nps":
            props = {"survey_id": survey_id, "score": r.choice(NPS[mood]), "comment": comment}
        elif kind == "csat":
            props = {"survey_id": survey_id, "score": r.choice(CSAT[mood]), "comment": comment}
        elif kind == "csi":
            base = 7.0 + 1.5 * mood
            factors = {f: round(min(10.0, max(0.0, r.gauss(base, 1.2))), 1) for f in ("product_quality", "service", "price_value", "brand")}
            props = {"survey_id": survey_id, "factors": factors}
        else:
            props = {"survey_id": survey_id, "text": r.choice(TEXTS[r.choice(SENTIMENT[mood])]), "topic": r.choice(TOPICS)}
        self.emit(t, f"{kind}_answered" if kind != "feedback" else "feedback_given", "surveys", {"email": self.email}, props)
        if r.random() < 0.15:
            sharing = {"purpose": "third_party_sharing", "channel": "survey_form", "wording_version": "survey-2025"}
            self.emit(t + 30, "consent_given" if r.random() < 0.4 else "consent_withdrawn", "surveys", {"email": self.email}, sharing, kind="survey")

    def browse(self, at_least: int) -> None:
        """Visits without a purchase, more for more active customers; some abandon a cart."""
        r = self.rng
        for _ in range(max(at_least, int(self.activity * r.uniform(0.1, 0.8)))):
            self.session(self.when(), r.choice((0, 0, 1, 1, 2)))

    def socialise(self) -> None:
        """Follows, likes, comments and messages; a linker's first message names the phone too."""
        r = self.rng
        count = int(self.activity * r.uniform(0.2, 1.5)) + 1 + self.links_social if self.handles else 0
        for k, t in enumerate(sorted(self.when() for _ in range(count))):
            handle = r.choice(self.handles)
            action = "followed" if k == 0 else "message_sent" if k == 1 and self.links_social else r.choice(SOCIAL_ACTIONS)
            ids, props = {"social": [dict(handle)]}, {"platform": handle["platform"], "post_id": f"post-{r.randrange(1000)}"}
            if action in ("commented", "mentioned", "message_sent"):
                sentiment = r.choice(SENTIMENT[self.mood])
                props |= {"text": r.choice(TEXTS[sentiment]), "sentiment": sentiment}
            if action == "message_sent":
                props |= {"post_id": None, "topic": r.choice(TOPICS)}
                if self.links_social and (k == 1 or r.random() < 0.3):
                    ids["phone"] = self.phone
            self.emit(t, action, handle["platform"], ids, props)


def generate(customers: int, *, seed: int = 7, end: date | None = None, days: int = 365) -> Iterator[dict]:
    """Yields envelope dicts (the JSON form of ``schemas.Envelope``) for ``customers`` people over the ``days`` days before ``end``.

    ``end`` (default: today, UTC) is the first day with no event: the period ends at its midnight,
    so nothing happens in the future. Customers are simulated ``GROUP_SIZE`` at a time and each
    group's events are yielded in time order, so memory does not grow with ``customers``; the same
    arguments give the same events.
    """
    last = datetime.combine(end or datetime.now(UTC).date(), time(), UTC)
    clock, horizon = _Clock(last - timedelta(days=days)), days * DAY
    for group in range(0, customers, GROUP_SIZE):
        events = [e for index in range(group, min(group + GROUP_SIZE, customers)) for e in _Customer(index, seed, horizon, clock).simulate()]
        events.sort(key=itemgetter(0))
        for _, event in events:
            yield event


def generate_events(count: int, *, seed: int = 7, end: date | None = None) -> Iterator[dict]:
    """Exactly ``count`` events: the first ``count`` of a population large enough to give them (~12 events a customer)."""
    return islice(generate(max(GROUP_SIZE, count // 8), seed=seed, end=end), count)
