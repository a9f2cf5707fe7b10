"""The two message catalogues: the same keys and placeholders in both, every key the console uses
present, and every name the projections give (stages, tiers, tags, ...) translated."""

import re
import string
from pathlib import Path

import pytest

from cdp import refusals
from cdp.config import load_settings
from cdp.console.dashboards import DASHBOARDS
from cdp.console.i18n import LANGUAGES, Translator, catalogue, chosen_language
from cdp.errors import CdpError
from cdp.segments import problems
from cdp.segments.fields import FIELDS
from cdp.segments.values import known_values
from cdp.services.profiles import IDENTIFIER_COLUMNS
from cdp.workload import generate
from projections import causes, churn, lifecycle, satisfaction, sentiment, service, value
from projections.trait_values import DEFAULT_TRAIT_VALUES
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE
from schemas.payloads.consent import PURPOSES

CONSOLE = Path(__file__).resolve().parents[2] / "cdp" / "console"
USED = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.\-]+)["']""")  # t("nav.customers") in templates, visit.t("...") in code


def used_keys() -> set[str]:
    found = set()
    for path in [*CONSOLE.glob("templates/*.html"), *CONSOLE.glob("*.py")]:
        found |= {key for key in USED.findall(path.read_text()) if not key.endswith((".", "_"))}  # a prefix the template completes
    found |= {f"dashboard.{d}.{part}" for d in DASHBOARDS for part in ("tab", "title", "x", "y")}
    found |= {f"identifier.{kind}" for kind in IDENTIFIER_COLUMNS} | {f"period.{p}" for p in ("day", "week", "month")}
    found |= {f"error.status_{status}" for status in (401, 403, 404, 413, 422, 500, 503)}
    return found


def names() -> set[str]:
    settings = load_settings(data_dir=Path("/nonexistent"))
    given = {"stage": lifecycle.STAGES, "tier": value.TIERS, "churn": churn.LEVELS, "nps": satisfaction.NPS_CATEGORIES, "sla": service.SLA_STATES,
             "sentiment": sentiment.LABELS, "purpose": PURPOSES, "loyalty": tuple(settings.loyalty.tiers), "tag": known_values(settings).tags,
             "ticket_status": service.TICKET_STATUSES, "answer": ("nps", "csat", "csi", "text"),  # survey_answers.kind
             "id_type": IDENTIFIER_COLUMNS, "trait": {*DEFAULT_TRAIT_VALUES, *demo_traits()}, "event_type": PAYLOAD_BY_EVENT_TYPE}
    canonical = {f"trait_value.{trait}.{value}" for trait, rules in DEFAULT_TRAIT_VALUES.items() if not rules.get("tables") for value in rules.get("synonyms", {})}
    return {f"{kind}.{name}" for kind, values in given.items() for name in values} | {f"field.{name}" for name in FIELDS} | canonical  # the builder's fields


def demo_traits() -> set[str]:
    """The names of the traits the demo workload's customers declare."""
    return {name for event in generate(20) for name in event["traits"]}


def test_both_languages_have_the_same_keys_and_placeholders():
    english, chinese = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(english) ^ set(chinese)) == []
    placeholders = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731  (each as often as named)
    assert [k for k in english if placeholders(english[k]) != placeholders(chinese[k])] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_and_every_name_given_is_in_the_catalogue(language: str):
    messages = catalogue(language)
    assert len(used_keys()) > 100
    assert sorted(used_keys() - set(messages)) == []
    assert sorted(names() - set(messages)) == []
    assert {"trait.age_band", "trait.city", "trait.address.city", "id_type.phone", "event_type.order_placed", "trait_value.gender.male"} <= names()


def test_the_check_sees_a_key_a_template_uses():
    assert "nav.customers" in used_keys() and "builder.count" in used_keys() and "operations.letters_replayed" in used_keys()


def test_language_from_the_switch_then_the_browser():
    assert chosen_language("zh-CN", "en") == "zh-CN"
    assert chosen_language(None, "zh-TW,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert chosen_language(None, "en-GB,zh-CN;q=0.5") == "en"
    assert chosen_language(None, "fr;q=1,zh;q=0.2,en;q=0.7") == "en"
    assert chosen_language("xx", "de") == "en"


def test_numbers_and_dates_the_locale_way():
    english, chinese = Translator("en"), Translator("zh-CN")
    assert english.number(1234567.891) == "1,234,567.89" and chinese.number(1234567.891) == "1,234,567.89"
    assert english.when("2025-10-01") == "Oct 1, 2025" and chinese.when("2025-10-01") == "2025年10月1日"
    assert chinese.name("stage", "at_risk") == "流失风险" and chinese.name("tag", "my_own_tag") == "my_own_tag"


def fields(text: str) -> set[str]:
    """The placeholders a message names."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def unworded(language: str, section: str, english: dict[str, str]) -> tuple[list[str], list[str]]:
    """Of ``english``'s codes (code → English words), those without words in ``section`` of the
    catalogue, and those whose words there name other placeholders than the English."""
    messages = catalogue(language)
    missing = sorted(f"{section}.{code}" for code in english if f"{section}.{code}" not in messages)
    mismatched = [code for code, words in english.items() if f"{section}.{code}" in messages and fields(messages[f"{section}.{code}"]) != fields(words)]
    return missing, mismatched


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_cause_a_projection_can_give_has_words_that_use_only_its_parameters(language: str):
    """The codes come from projections/causes.py, which words every cause the projections give (an
    unknown code fails there at its first use): each has words here, naming only its parameters."""
    assert len(causes.ENGLISH) > 15
    assert unworded(language, "cause", causes.ENGLISH) == ([], [])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_refusal_a_service_or_form_gives_has_words_that_use_only_its_parameters(language: str):
    """The codes come from cdp/refusals.py, which words every refusal given by code (an unknown
    code fails there at its first use)."""
    assert len(refusals.ENGLISH) > 40
    assert unworded(language, "refusal", refusals.ENGLISH) == ([], [])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_problem_the_segment_checks_give_has_words_that_use_only_its_parameters(language: str):
    assert unworded(language, "segment_error", problems.ENGLISH) == ([], [])


def test_a_cause_in_each_language_with_its_numbers_and_dates_and_the_english_text_for_an_unknown_code():
    english, chinese = Translator("en"), Translator("zh-CN")
    gap = causes.cause("purchase_gap", since="2025-01-02", days=1060, weight=30)
    stored = (gap.code, causes.params_json(gap.params), causes.english(gap))
    assert stored[2] == "no purchase since 2025-01-02 (at risk after 1060 days) (+30)"
    assert english.cause(*stored) == "no purchase since Jan 2, 2025 (at risk after 1,060 days) (+30)"
    assert chinese.cause(*stored) == "自2025年1月2日起未购买（超过 1,060 天即有风险） (+30)"
    assert chinese.cause("", "", "first purchase") == "first purchase"  # a row written before codes
    assert chinese.cause("no_such_code", "{}", "as stored") == "as stored" and chinese.cause("detractor", "{}", "detractor (NPS 3)") == "detractor (NPS 3)"
    assert chinese.causes([], [], ["detractor (NPS 3) (+25)"]) == ["detractor (NPS 3) (+25)"]
    assert chinese.causes(["detractor"], ['{"nps":3,"weight":25}'], ["detractor (NPS 3) (+25)"]) == ["贬损者（NPS 3） (+25)"]


def test_a_merge_reason_in_each_language_with_its_identifier_types_named_and_the_english_text_as_ever():
    english, chinese = Translator("en"), Translator("zh-CN")
    why = causes.cause("named_both", event="shop/m-7", id_types=["phone", "social"])
    stored = (why.code, causes.params_json(why.params), causes.english(why))
    assert stored[2] == "event shop/m-7 named identifiers of both (phone, social)"
    assert english.cause(*stored) == "event shop/m-7 named identifiers of both (phone, social handle)"
    assert chinese.cause(*stored) == "事件 shop/m-7 同时含有两位客户的标识（手机号、社交账号）"
    assert chinese.cause("", "", stored[2]) == stored[2]  # a merge written before codes


def test_a_trait_name_in_each_language_and_a_custom_trait_as_stored():
    chinese = Translator("zh-CN")
    assert chinese.name("trait", "age_band") == "年龄段" and chinese.name("trait", "address.city") == "城市（地址）"
    assert chinese.name("trait", "favourite_colour") == "favourite_colour"


def test_a_refusal_in_each_language_with_its_numbers_and_lists_and_the_english_message_without_a_code():
    english, chinese = Translator("en"), Translator("zh-CN")
    bound = refusals.refusal(CdpError, "destination_bound", name="crm", audiences=["vip", "lapsed"])
    assert str(bound) == "destination: 'crm' is bound to the audience(s) vip, lapsed; unbind them first (`cdp audiences unbind NAME`)"
    assert english.refusal(bound) == str(bound)
    assert chinese.refusal(bound) == "目的地：'crm' 已绑定到人群同步 vip、lapsed；请先解除绑定（`cdp audiences unbind NAME`）"
    too_many = refusals.refusal(CdpError, "limit_range", given=20000, most=10000)
    assert str(too_many) == "limit: 20000 is not between 1 and 10,000" and chinese.refusal(too_many) == "数量上限：20,000 不在 1 到 10,000 之间"
    assert chinese.refusal(CdpError("a message without a code")) == "a message without a code"


def test_a_cause_naming_event_types_names_them_in_each_language():
    first = causes.cause("prospect_first_event", events=["page_viewed"])
    stored = (first.code, causes.params_json(first.params), causes.english(first))
    assert stored[2] == "known, no purchase yet (first event: page_viewed)"
    assert Translator("en").cause(*stored) == "known, no purchase yet (first event: Page viewed)"
    assert Translator("zh-CN").cause(*stored) == "已知客户，尚未购买（首个事件：浏览页面）"
