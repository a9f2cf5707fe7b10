"""How the CLI shows a 360° profile to a person: every section that has something, customer data as
literal text (never console markup), and wide sections cut to the columns that fit."""

import io

from rich.console import Console

from cdp.cli.render import print_profile, print_rows

HOSTILE = "[link=https://evil.example]click[/link] [bold red]x[/bold red]"
VIEW = {
    "customer_id": "c1",
    "version": 3,
    "emails": ["ann@example.com"],
    "traits": f'{{"name": "{HOSTILE}"}}',
    "lifecycle_stage": "new",
    "lifecycle_history": [{"at": "2025-01-01", "from_stage": "", "to_stage": "new", "cause": "first purchase", "cause_code": "first_purchase", "cause_params": "{}"}],
    "customers_merged_in": [],
    "identifiers": {"email": ["ann@example.com"], "phone": []},
    "tags": [{"tag": "valid", "since": "2025-01-01"}],
    "value": {"rfm": "545", "tier": "vip"},
    "churn_risk": {"score": 25, "level": "low", "reasons": ["detractor (NPS 3) (+25)"], "reason_codes": ["detractor"], "reason_params": ['{"nps":3,"weight":25}']},
    "satisfaction": None,
    "tickets": [{"ticket_id": "T1", "opened_at": "2025-01-02", "priority": "high", "status": "open", "response_sla": "breached", "resolution_sla": "pending", "escalations": 0, "subject": HOSTILE, "response_due": "2025-01-03"}],
    "consent": {"email_marketing": {"granted": True, "decided": False}},
    "suppressions": [],
    "segments": ["big_spenders"],
}


def printed(view: dict) -> str:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    print_profile(console, view)
    return console.file.getvalue()


def test_every_section_with_something_is_shown_and_customer_data_is_literal():
    text = printed(VIEW)
    for title in ("customer c1", "lifecycle history", "identifiers", "tags", "value", "tickets", "consent in force", "segments"):
        assert title in text, title
    assert "satisfaction" not in text and "suppressions" not in text and "customers merged in" not in text  # nothing to show
    assert text.count(HOSTILE) == 2 and "big_spenders" in text and "email_marketing" in text
    assert "response_due" not in text and "subject" in text  # the tickets' columns that fit
    assert "first purchase" in text and "detractor (NPS 3) (+25)" in text and "_code" not in text and "_params" not in text  # causes as words, not codes


def test_a_bare_profile_row_prints_as_before():
    text = printed({"customer_id": "c2", "lifecycle_stage": "prospect", "emails": []})
    assert "customer c2" in text and "prospect" in text and "emails" not in text


def test_csv_rows_open_as_text_in_a_spreadsheet():
    """`--format csv` of any command: a name from the internet starting with = is a formula to Excel."""
    console = Console(file=io.StringIO())
    print_rows(console, [{"name": '=HYPERLINK("http://evil/","x")', "phone": "+8613800138000", "tags": ["@a", "b"]}], "csv")
    assert console.file.getvalue().splitlines()[1] == '"\'=HYPERLINK(""http://evil/"",""x"")",+8613800138000,"\'@a, b"'
