"""The console in a real Chromium against a real ``cdp serve`` over the demo data: sign in, find a
customer, build, save and export a segment, every dashboard drawn, both languages, a key without
pii:read, hostile names shown as text, and no Content-Security-Policy violation on any page.
A screenshot of each page is written to the folder printed at the start ($CDP_SCREENSHOTS, else
the run's basetemp /screenshots)."""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from cdp.console.dashboards import DASHBOARDS
from cdp.console.i18n import Translator
from tests.console.site import HOSTILE_EMAIL, HOSTILE_NAME, Site, prepared, served


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
RED = "rgba(197, 48, 48, 1)"  # console.css --bad


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served(prepared(tmp_path_factory.mktemp("console") / "data")) as running:
        yield running


def sign_in(browser, site: Site, key: str, then: str = "/") -> None:
    browser.get(site.url + then)
    assert "/signin" in browser.current_url
    browser.find_element(By.ID, "key").send_keys(site.keys[key])
    browser.find_element(By.ID, "signin").click()
    wait(browser, lambda b: "/signin" not in b.current_url)


# Chromium's words when a look-up meets the page a navigation is replacing (not a stale element: a CI run failed on it)
PAGE_BEING_REPLACED = ("does not belong to the document", "document unloaded")


def wait(browser, condition) -> None:
    """Until ``condition(browser)``; an element htmx swapped away, or a page replaced, meanwhile is looked up again."""

    def settled(b) -> bool:
        try:
            return condition(b)
        except WebDriverException as error:
            if any(words in (error.msg or "") for words in PAGE_BEING_REPLACED):
                return False
            raise

    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(settled)


def choose_language(browser, language: str) -> None:
    """Click the header's language button and wait for the page it reloads into."""
    browser.find_element(By.ID, {"en": "lang-en", "zh-CN": "lang-zh"}[language]).click()
    wait(browser, lambda b: b.execute_script("return document.documentElement.lang") == language)


def text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def no_policy_violation(browser) -> None:
    """Nothing the page did was blocked by its Content-Security-Policy, and no script failed."""
    problems = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]]
    assert problems == []


def test_sign_in_find_a_customer_and_see_their_stage_and_churn_reasons(browser, site: Site, shots: Path):
    browser.get(site.url + "/")
    browser.save_screenshot(str(shots / "01-signin.png"))
    sign_in(browser, site, "marketer")
    assert browser.current_url.endswith("/customers")
    assert int(text(browser, "total").split()[0].replace(",", "")) > 100
    assert len(browser.find_elements(By.CSS_SELECTOR, "#customer-list tbody tr")) == 50
    browser.save_screenshot(str(shots / "02-customers.png"))
    Select(browser.find_element(By.ID, "filter-stage")).select_by_value(site.stage)
    browser.find_element(By.ID, "apply").click()
    wait(browser, lambda b: f"stage={site.stage}" in b.current_url)
    stages = {e.text for e in browser.find_elements(By.CSS_SELECTOR, "#customer-list .stage")}
    assert len(stages) == 1
    browser.find_element(By.ID, "q").send_keys(site.email)
    browser.find_element(By.ID, "find").click()
    wait(browser, lambda b: "/customer?" in b.current_url)
    assert site.email in text(browser, "identity")
    assert text(browser, "stage") == stages.pop()
    assert browser.find_elements(By.CSS_SELECTOR, "#churn-reasons li")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#timeline tbody tr") and b.find_elements(By.CSS_SELECTOR, "#why-joined tbody tr"))  # the fragments htmx loads
    browser.save_screenshot(str(shots / "03-customer-360.png"))
    no_policy_violation(browser)


def test_build_a_segment_watch_the_count_save_and_export_it(browser, site: Site, shots: Path):
    sign_in(browser, site, "marketer", "/segments/new")
    count = lambda: text(browser, "segment-count")  # noqa: E731
    value = browser.find_element(By.ID, "value-0")
    value.send_keys("new")
    wait(browser, lambda b: count().split()[0].replace(",", "").isdigit())
    new_only = count()
    browser.find_element(By.ID, "add-condition").click()
    wait(browser, lambda b: b.find_elements(By.ID, "field-1"))
    Select(browser.find_element(By.ID, "field-1")).select_by_value("revenue")
    wait(browser, lambda b: "revenue" in b.find_element(By.ID, "field-1").get_attribute("value") and b.find_elements(By.CSS_SELECTOR, "#op-1 option[value='>=']"))
    Select(browser.find_element(By.ID, "op-1")).select_by_value(">=")
    browser.find_element(By.ID, "value-1").send_keys("lots")
    wait(browser, lambda b: "revenue" in text(b, "error-1"))  # the service's message, next to the row at fault
    assert text(browser, "error-0") == ""
    border = lambda row: browser.find_element(By.ID, f"row-{row}").value_of_css_property("border-top-color")  # noqa: E731
    assert border(1) == RED != border(0)
    browser.save_screenshot(str(shots / "04-segment-builder-error.png"))
    browser.find_element(By.ID, "value-1").clear()
    browser.find_element(By.ID, "value-1").send_keys("1")
    browser.find_element(By.ID, "combine-any").click()
    wait(browser, lambda b: text(b, "error-1") == "" and count() != new_only and count().split()[0].replace(",", "").isdigit())
    built = count()
    assert border(1) == border(0) != RED  # the row's mark goes with its error
    browser.save_screenshot(str(shots / "05-segment-builder.png"))
    browser.find_element(By.ID, "segment-name").send_keys("new_or_buyers")
    browser.find_element(By.ID, "save-segment").click()
    wait(browser, lambda b: b.current_url.endswith("/segments/new_or_buyers"))
    assert text(browser, "segment-size") == built
    assert browser.find_elements(By.CSS_SELECTOR, "#members tbody tr a")
    assert "1" in text(browser, "history")
    browser.save_screenshot(str(shots / "06-segment.png"))
    csv = browser.execute_async_script("const done = arguments[0]; fetch('/segments/new_or_buyers/export?purpose=email_marketing').then(r => r.text()).then(done)")
    header, *rows = csv.strip().splitlines()
    assert header.startswith("customer_id,emails") and rows
    browser.get(site.url + "/segments/new")  # a segment built on the saved one
    Select(browser.find_element(By.ID, "field-0")).select_by_value("segment")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#op-0 option[value='member']") and b.find_elements(By.CSS_SELECTOR, "#values-0 option[value='new_or_buyers']"))
    browser.find_element(By.ID, "value-0").send_keys("new_or_buyers")
    wait(browser, lambda b: count() == built)
    browser.find_element(By.ID, "add-condition").click()
    wait(browser, lambda b: b.find_elements(By.ID, "value-1"))
    browser.find_element(By.ID, "value-1").send_keys("new")
    wait(browser, lambda b: count() == new_only)  # new_or_buyers narrowed to the new ones: the new ones
    browser.save_screenshot(str(shots / "06-segment-built-on-a-saved-one.png"))
    no_policy_violation(browser)




@pytest.mark.parametrize("name", DASHBOARDS)
def test_each_dashboard_draws_its_data(browser, site: Site, shots: Path, name: str):
    sign_in(browser, site, "marketer", f"/dashboards/{name}")
    drawn = "return [...document.querySelectorAll('.chart')].map(e => echarts.getInstanceByDom(e)).map(c => c ? c.getOption().series.reduce((n, s) => n + s.data.length, 0) : 0)"
    wait(browser, lambda b: all(b.execute_script(drawn)))
    assert len(browser.execute_script(drawn)) == (2 if name == "lifecycle-flow" else 1)  # with the customers per stage now
    assert browser.find_elements(By.CSS_SELECTOR, "#numbers tbody tr td.num")
    assert browser.find_element(By.ID, "csv").get_attribute("href").endswith(f"/dashboards/{name}.csv")
    browser.save_screenshot(str(shots / f"07-dashboard-{name}.png"))
    no_policy_violation(browser)


def test_switch_to_chinese_and_back(browser, site: Site, shots: Path):
    sign_in(browser, site, "marketer", "/customers")
    choose_language(browser, "zh-CN")
    assert "客户" in browser.find_element(By.TAG_NAME, "nav").text
    assert "位客户" in text(browser, "total")
    browser.get(site.url + f"/customer?id={quote(site.email)}")
    choose_language(browser, "en")
    assert "/customer?id=" in browser.current_url  # back on the same customer
    choose_language(browser, "zh-CN")
    assert text(browser, "stage") in ("潜在客户", "新客户", "复购客户", "忠诚客户", "流失风险", "已流失", "已召回")
    browser.save_screenshot(str(shots / "08-customer-zh.png"))
    browser.get(site.url + "/dashboards/lifecycle-flow")
    assert "生命周期" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(shots / "09-dashboard-zh.png"))
    choose_language(browser, "en")
    assert "Lifecycle" in browser.find_element(By.TAG_NAME, "h1").text


def test_a_customer_at_risk_in_chinese_sees_every_churn_reason_and_lifecycle_cause_in_chinese_and_in_english_as_stored(browser, site: Site, shots: Path):
    at_risk = site.at_risk
    sign_in(browser, site, "marketer", f"/customer?id={quote(at_risk['email'])}")
    items = lambda selector: [e.text for e in browser.find_elements(By.CSS_SELECTOR, selector)]  # noqa: E731
    english = Translator("en")
    as_stored = lambda text: ISO_DATE.sub(lambda day: english.when(day.group()), text)  # noqa: E731  the stored words, the date the English way
    assert items("#churn-reasons li") == [as_stored(r) for r in at_risk["reasons"]]
    assert items("#lifecycle li .muted") == [as_stored(c) for c in at_risk["causes"]]
    browser.save_screenshot(str(shots / "10-customer-at-risk-en.png"))
    choose_language(browser, "zh-CN")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert [text for text in [*at_risk["reasons"], *at_risk["causes"]] if text.rsplit(" (+", 1)[0] in page] == []  # no English cause on the page
    reasons, causes = items("#churn-reasons li"), items("#lifecycle li .muted")
    assert len(reasons) == len(at_risk["reasons"]) and len(causes) == len(at_risk["causes"])
    assert all(CHINESE.search(text) for text in [*reasons, *causes]), [*reasons, *causes]
    assert [r.rsplit(" ", 1)[-1] for r in reasons] == [r.rsplit(" ", 1)[-1] for r in at_risk["reasons"]]  # each with its weight, "(+30)"
    browser.save_screenshot(str(shots / "11-customer-at-risk-zh.png"))
    choose_language(browser, "en")
    no_policy_violation(browser)


def test_a_customer_with_merges_and_a_churn_history_in_chinese_has_no_english_reason_or_trait_name_left(browser, site: Site, shots: Path):
    merged = site.merged
    sign_in(browser, site, "marketer", f"/customer?id={quote(merged['email'])}")
    choose_language(browser, "zh-CN")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#why-joined table"))  # the identity explanation came
    items = lambda selector: [e.text for e in browser.find_elements(By.CSS_SELECTOR, selector)]  # noqa: E731
    page = browser.find_element(By.TAG_NAME, "main").text
    english = [*merged["merges"], *merged["churn_reasons"]]
    assert len(merged["merges"]) >= 1 and len(merged["churn_reasons"]) >= 2
    assert [text for text in english if text.rsplit(" (+", 1)[0] in page] == []  # no English merge or churn reason on the page
    merges, history = items("#why-joined p.muted"), items("#churn-history li .muted")
    assert len(merges) == len(merged["merges"]) and all("同时含有两位客户的标识" in m for m in merges), merges
    assert history and all(CHINESE.search(h) for h in history if h), history
    traits = items("#traits dt")
    assert len(traits) > 4 and all(CHINESE.search(name) for name in traits), traits  # every trait name worded, none as stored
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#timeline tbody tr"))
    values = dict(zip(items("#traits dt"), items("#traits dd"), strict=True))
    assert values.get("性别") in ("男", "女"), values  # a canonical value worded, not "male"
    kinds = items("#timeline tbody tr td:nth-child(2)")
    assert kinds and all(CHINESE.search(kind) for kind in kinds), kinds  # event types worded too, not as stored
    browser.execute_script("document.getElementById('identity').scrollIntoView()")
    browser.save_screenshot(str(shots / "12-customer-merged-zh.png"))
    browser.execute_script("document.getElementById('churn').scrollIntoView()")
    browser.save_screenshot(str(shots / "13-customer-churn-history-zh.png"))
    browser.execute_script("document.getElementById('timeline').scrollIntoView()")
    browser.save_screenshot(str(shots / "14-customer-timeline-zh.png"))
    choose_language(browser, "en")
    no_policy_violation(browser)


def test_a_key_without_pii_read_sees_no_personal_data(browser, site: Site, shots: Path):
    sign_in(browser, site, "intern", f"/customer?id={quote(site.email)}")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#timeline tbody tr") and b.find_elements(By.CSS_SELECTOR, "#why-joined tbody tr"))
    page = browser.find_element(By.TAG_NAME, "main").text
    assert site.email not in page and "email:***" in text(browser, "identity")
    assert "personal data hidden" in browser.find_element(By.TAG_NAME, "header").text
    browser.save_screenshot(str(shots / "10-customer-masked.png"))
    browser.get(site.url + "/operations")
    assert "admin" in browser.find_element(By.TAG_NAME, "main").text  # the service's refusal: the scope it needs


def test_hostile_names_render_as_text(browser, site: Site, shots: Path):
    sign_in(browser, site, "marketer", f"/customer?id={quote(HOSTILE_EMAIL)}")
    assert HOSTILE_NAME in text(browser, "traits")
    assert browser.execute_script("return window.pwned") is None
    browser.save_screenshot(str(shots / "11-customer-hostile.png"))
    no_policy_violation(browser)


def test_operations_for_an_admin(browser, site: Site, shots: Path):
    sign_in(browser, site, "admin", "/operations")
    assert "web" in text(browser, "sources") and "amount" in text(browser, "dead-letters")
    browser.save_screenshot(str(shots / "12-operations.png"))
    browser.find_element(By.ID, "replay-letters").click()
    wait(browser, lambda b: b.find_elements(By.ID, "replayed"))
    assert "0 letters replayed" in text(browser, "replayed") and "1 still failing" in text(browser, "replayed")  # the same input is still wrong
    browser.get(site.url + f"/customer?id={quote(site.email)}")
    browser.get(site.url + "/operations/audit")
    assert "console.signin" in text(browser, "audit") and "profile.read" in text(browser, "audit")
    browser.save_screenshot(str(shots / "13-audit.png"))
    no_policy_violation(browser)
