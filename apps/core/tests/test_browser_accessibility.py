"""The accessibility check of the browser tests (apps/core/testing/browser.py: `axe_check`, run by
`snap` on every traveller page) finds what it should, under the site's Content-Security-Policy, and
fails rather than skips without axe-core."""

import pytest

from apps.core.testing import browser as browser_fixtures

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


def test_a_page_without_javascript_is_checked_as_it_is_shown(browser_page_without_js):
    web, page = browser_page_without_js, browser_page_without_js.page
    web.goto("/signin/")
    web.axe_check("sign in without javascript")

    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<button class=nameless>')"
    )

    with pytest.raises(AssertionError, match=r"button-name \(critical\)"):
        web.axe_check("sign in without javascript, broken")
