"""The accessibility check of the browser tests (apps/core/testing/browser.py: `axe_check`, run by
`snap` on every traveller page) finds what it should, under the site's Content-Security-Policy, and
fails rather than skips without axe-core."""

import pytest

from apps.core.testing import browser as browser_fixtures
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


def test_a_serious_violation_fails_the_check_with_the_rule_and_the_element(browser_page):
    web, page = browser_page, browser_page.page
    web.goto("/signin/")
    web.axe_check("sign in")  # the page as served passes

    # when the page gets a button without a name and a pale grey heading on white
    page.evaluate(
        """() => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<button class="nameless"></button>');
            main.querySelector('h1').style.setProperty('color', '#aaa');
        }"""
    )

    # then the check fails, naming each rule, its impact and the element
    with pytest.raises(AssertionError) as failed:
        web.axe_check("sign in, broken")
    report = str(failed.value)
    assert "button-name (critical)" in report
    assert ".nameless" in report
    assert "color-contrast (serious)" in report


def test_without_axe_core_the_check_fails_saying_to_run_npm_ci(browser_page, monkeypatch, tmp_path):
    monkeypatch.setattr(browser_fixtures, "AXE_SCRIPT", tmp_path / "axe.min.js")
    browser_page.goto("/signin/")

    with pytest.raises(pytest.fail.Exception, match=r"axe-core is not installed .*: run `npm ci`"):
        browser_page.axe_check("sign in")


@pytest.fixture
def route() -> Route:
    return route_bom_del()


def test_on_results_the_h1_comes_first_and_refine_is_still_shown_first(browser_page, route):
    web, page = browser_page, browser_page.page
    web.goto(f"/flights/?origin=BOM&destination=DEL&date={route.day.isoformat()}&travellers=1")

    headings = page.locator("main h1, main h2").evaluate_all(
        "els => els.map(e => e.tagName + ' ' + e.textContent)"
    )
    assert headings[0] == "H1 BOM → DEL"
    assert "H2 Refine" in headings

    # on a phone the refine panel is above the results, on a desktop beside them, on the left
    refine = page.locator("details[data-refine]")
    results = page.get_by_role("heading", name="BOM → DEL", level=1)
    assert refine.bounding_box()["x"] < results.bounding_box()["x"]
    page.set_viewport_size(browser_fixtures.PHONE)
    assert refine.bounding_box()["y"] < results.bounding_box()["y"]


def test_a_page_without_javascript_is_checked_as_it_is_shown(browser_page_without_js):
    web, page = browser_page_without_js, browser_page_without_js.page
    web.goto("/signin/")
    web.axe_check("sign in without javascript")

    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<button class=nameless>')"
    )

    with pytest.raises(AssertionError, match=r"button-name \(critical\)"):
        web.axe_check("sign in without javascript, broken")
