"""The search page driven in a real browser: headless Chromium through Selenium.

A ``searchlib serve`` process serves a small index of its own (two dozen documents that
all speak of talks, each with a keyword ``tag``), and the test does what a reader does:
types a query, sees hits with the matches marked, goes to the next page and narrows the
hits with a facet, the total changing. It saves a screenshot under its temporary folder.

It uses the system's Chromium and ChromeDriver (Debian: ``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them) by their paths, so that Selenium never
looks for, nor downloads, a driver; without them it skips, saying what to install.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason='the server extra is not installed: pip install "searchlib[server]"')
pytest.importorskip("uvicorn", reason='the server extra is not installed: pip install "searchlib[server]"')
pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[test]'")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from tests.serving import Server, make_index, start_server  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
#: Tags of the documents: 15 on politics, 9 on the economy, all about talks.
TAGS = ["politics"] * 15 + ["economy"] * 9
DOCUMENTS = [
    {"id": f"t{number:02}", "title": f"Round {number} of the {tag} talks",
     "body": f"Delegates met again for talks on {tag}; the round numbered {number} ended without a deal.",
     "tag": tag, "year": 2000 + number}
    for number, tag in enumerate(TAGS, start=1)
]


def chrome_paths() -> tuple[str, str]:
    """Chromium's and ChromeDriver's paths, or a skip that says what to install."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if path is None)
        pytest.skip(f"{missing} not installed: apt-get install chromium chromium-driver (Debian), "
                    "so the search page is not tested in a browser")
    return browser, driver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    chrome_paths()  # skip before starting a server for nothing
    with start_server(make_index(tmp_path_factory.mktemp("serve-browser") / "index", DOCUMENTS)) as running:
        yield running


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    binary, driver_path = chrome_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=driver_path, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def status_of(driver: Any) -> str:
    return str(driver.find_element(By.ID, "status").text)


def wait_for_status(driver: Any, wanted: str) -> str:
    """The page's status line once it contains ``wanted`` (the searches are asynchronous)."""
    try:
        WebDriverWait(driver, 30).until(lambda d: wanted in status_of(d))
    except Exception:
        pytest.fail(f"the page's status never said {wanted!r}; it says {status_of(driver)!r}")
    return status_of(driver)


def test_search_page_and_facets_in_a_browser(server: Server, browser: Any, tmp_path: Path) -> None:
    browser.get(server.url + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("talks deal", Keys.ENTER)

    assert wait_for_status(browser, "of 24") == "1–10 of 24 matching documents"
    hits = browser.find_elements(By.CSS_SELECTOR, "#hits li")
    assert len(hits) == 10
    marked = {mark.text.lower() for mark in browser.find_elements(By.CSS_SELECTOR, "#hits .snippet mark")}
    assert {"talks", "deal"} <= marked
    assert all(hit.find_element(By.CSS_SELECTOR, ".title").text.startswith("Round ") for hit in hits)
    assert "q=talks+deal" in browser.current_url

    browser.find_element(By.ID, "next").click()
    assert wait_for_status(browser, "11–20") == "11–20 of 24 matching documents"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hits li")) == 10
    assert browser.find_element(By.ID, "previous").is_displayed()

    economy = next(link for link in browser.find_elements(By.CSS_SELECTOR, "#facets a")
                   if link.text.split()[0] == "economy")
    assert economy.text.split()[1] == "9"  # the count over every match, not one page
    economy.click()
    assert wait_for_status(browser, "9 matching") == "9 matching documents"  # all on one page
    tags = {browser.execute_script("return arguments[0].textContent", link).split()[0]
            for link in browser.find_elements(By.CSS_SELECTOR, "#facets a.active")}
    assert tags == {"economy"}
    assert not browser.find_element(By.ID, "next").is_displayed()

    screenshot = tmp_path / "search-page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
