"""Fixtures of the console's browser tests; each module serves its own ``site``."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.site import Site, chromium, screenshots_folder


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = screenshots_folder(tmp_path_factory.getbasetemp())
    print(f"\nconsole screenshots: {folder}")
    return folder


@pytest.fixture
def browser(site: Site) -> Iterator:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()
