"""The marketer console: the third door (after the CLI and the HTTP API), served by ``cdp serve`` at
``/``. Server-rendered pages (Jinja2) with htmx for the live parts and Apache ECharts for charts,
both vendored under ``static/vendor/`` at pinned versions, so nothing is fetched from elsewhere.

Like every door it only parses, calls one service (``cdp.services``) as the signed-in read key and
renders the answer: scopes, masking without ``pii:read`` and audit records are the services'.
See docs/console.md.
"""
