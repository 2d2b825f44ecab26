"""End-to-end tests of the browser app in headless Debian Chromium (Playwright).

The app is started as a user starts it - ``solara run app.py`` from the
repository root (conftest's ``solara_run_server``) - and driven by clicks:
the page loads with no page error and fetches nothing from outside this
machine, Step changes the plots, Reset starts again, a policy switched on and
applied changes the outcome views, and the side-by-side page runs.

Screenshots go to pytest's tmp dir; with ``HERDTRAP_DOCS_SCREENSHOTS=1`` they
are also written to docs/img/app-*.png (for the README and docs/APP.md).
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_IMG = REPO_ROOT / "docs" / "img"
TIMEOUT = 60_000

# JavaScript: the plotly graphs of the page, by title.
TITLES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(el => (el.layout && el.layout.title && el.layout.title.text) || '')"""
TRACES_JS = """(title) => {
    const el = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(e => e.layout && e.layout.title && (e.layout.title.text || '').startsWith(title));
    return el ? el.data.map(d => ({name: d.name || '', n: (d.y || []).length,
                                   sum: Array.from(d.y || []).reduce((a, b) => a + (+b || 0), 0)}))
              : null;
}"""


def _is_local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    return parsed.scheme in {"data", "blob", "about"} or parsed.hostname in {
        "127.0.0.1", "localhost", "::1"}


def _shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"app-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("HERDTRAP_DOCS_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)
    return path


@pytest.fixture(scope="module")
def app_url(solara_run_server) -> str:
    # Production mode, as `herdtrap app` runs it: no reloading when a source file in
    # the repository changes (a reload would reset the page in the middle of a test).
    return solara_run_server("app.py", cwd=REPO_ROOT, env={"SOLARA_MODE": "production"})


def _open_explore(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Step", exact=True).wait_for(state="visible", timeout=TIMEOUT)
    page.wait_for_function(f"({TITLES_JS})().length >= 6", timeout=TIMEOUT)
    page.get_by_text(re.compile(r"^Time: 0(\.0)?$")).wait_for(timeout=TIMEOUT)


def _wait(page, js: str, what: str) -> None:
    """Wait until ``js`` is true; on timeout say what was expected and what the plots show."""
    try:
        page.wait_for_function(js, timeout=TIMEOUT)
    except Exception as exc:  # playwright TimeoutError
        titles = page.evaluate(TITLES_JS)
        fiscal = page.evaluate(f"({TRACES_JS})('Fiscal cost')")
        raise AssertionError(f"{what}: not seen within {TIMEOUT / 1000:.0f} s; plots: {titles}; "
                             f"fiscal traces: {fiscal}") from exc


def _step_to(page, n: int) -> None:
    """Click Step until Mesa's "Time: n" shows (one step = one season)."""
    text = page.get_by_text(re.compile(r"^Time: \d+(\.0)?$")).inner_text()
    for i in range(int(float(text.split()[1])) + 1, n + 1):
        page.get_by_role("button", name="Step", exact=True).click()
        page.get_by_text(re.compile(rf"^Time: {i}(\.0)?$")).wait_for(timeout=TIMEOUT)


def test_explore_loads_steps_and_resets(app_url, page, page_errors, tmp_path):
    errors = page_errors(page)
    outside: list[str] = []
    page.on("request", lambda req: None if _is_local(req.url) else outside.append(req.url))
    _open_explore(page, app_url)
    titles = page.evaluate(TITLES_JS)
    herd_title = next(t for t in titles if t.startswith("Herd sizes"))
    assert "start of spring" in herd_title

    _step_to(page, 1)
    page.wait_for_function(
        f"(before) => ({TITLES_JS})().some(t => t.startsWith('Herd sizes') && t !== before)",
        arg=herd_title, timeout=TIMEOUT)
    _step_to(page, 4)  # through the first winter: yearly outcomes appear
    page.wait_for_function(
        f"() => {{ const t = ({TRACES_JS})('Poverty and assets'); "
        "return t && t.some(d => d.name === 'poverty headcount' && d.n === 1); }",
        timeout=TIMEOUT)
    page.get_by_text("After: winter 2020/21 (year 1 of 30)").wait_for(timeout=TIMEOUT)
    _step_to(page, 9)
    _shot(page, tmp_path, "explore")

    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text(re.compile(r"^Time: 0(\.0)?$")).wait_for(timeout=TIMEOUT)
    page.wait_for_function(
        f"() => ({TITLES_JS})().some(t => t.startsWith('Herd sizes') && t.includes('start of'))",
        timeout=TIMEOUT)
    assert errors == [], f"uncaught page errors: {errors}"
    assert outside == [], f"page fetched from outside this machine: {outside}"


def test_pages_and_views_are_named_and_the_trap_threshold_says_where_it_comes_from(
        app_url, page, page_errors):
    from experiments.analysis.trap_compute import read_threshold
    from experiments.analysis.validate_compute import TRAP_JSON

    errors = page_errors(page)
    _open_explore(page, app_url)
    tabs = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
    assert [t.lower() for t in tabs] == ["explore", "side by side", "results", "live views"], tabs
    assert page.get_by_text(re.compile("page 0", re.I)).count() == 0
    thr = read_threshold(TRAP_JSON)
    assert thr is not None, f"{TRAP_JSON} missing: run `herdtrap validate`"
    note = page.get_by_text(re.compile(r"^Trap share: households below"))
    note.wait_for(timeout=TIMEOUT)
    text = note.inner_text()
    assert f"{thr['value']:.1f} SFU/person" in text and "herdtrap validate" in text
    assert "docs/VALIDATION.md" in text
    herd_notes = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .filter(e => (e.layout.title.text || '').startsWith('Herd sizes'))
        .flatMap(e => (e.layout.annotations || []).map(a => a.text))""")
    assert any(n.startswith(f"trap threshold {thr['value']:.1f}") for n in herd_notes), herd_notes
    page.get_by_role("tab", name=re.compile("side by side", re.I)).click()
    page.get_by_role("button", name="Year", exact=True).wait_for(state="visible", timeout=TIMEOUT)
    assert errors == [], f"uncaught page errors: {errors}"


def test_policy_change_changes_the_outcome_views(app_url, page, page_errors, tmp_path):
    errors = page_errors(page)
    _open_explore(page, app_url)
    _step_to(page, 4)
    _wait(page, f"() => {{ const t = ({TRACES_JS})('Fiscal cost'); return t && t.length === 0; }}",
          "no programme cost without a policy")

    # Vuetify covers the checkbox input with its ripple: click the label, as a user does
    page.locator("label", has_text=re.compile(r"^Child money$")).click()
    page.get_by_text("press Reset to apply").wait_for(timeout=TIMEOUT)
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("Policies in this run: child_money").wait_for(timeout=TIMEOUT)
    page.get_by_text(re.compile(r"^Time: 0(\.0)?$")).wait_for(timeout=TIMEOUT)
    _step_to(page, 4)
    _wait(page, f"() => {{ const t = ({TRACES_JS})('Fiscal cost'); "
          "return t && t.some(d => d.name === 'child_money' && d.sum > 0); }",
          "Child Money's cost in the fiscal view")
    page.locator(".js-plotly-plot").nth(5).scroll_into_view_if_needed()
    page.get_by_text("Policies in this run: child_money").scroll_into_view_if_needed()
    _shot(page, tmp_path, "policy")
    assert errors == [], f"uncaught page errors: {errors}"


def test_side_by_side_runs(app_url, page, page_errors, tmp_path):
    errors = page_errors(page)
    page.goto(app_url + "side-by-side")
    year = page.get_by_role("button", name="Year", exact=True)
    year.wait_for(state="visible", timeout=TIMEOUT)
    page.wait_for_function(f"({TITLES_JS})().length >= 4", timeout=TIMEOUT)
    for _ in range(3):
        year.click()
    page.get_by_text(re.compile(r"After: winter 2022/23")).wait_for(timeout=TIMEOUT)
    page.wait_for_function(
        f"() => {{ const t = ({TRACES_JS})('Fiscal cost'); "
        "return t && t.length === 3 && t[0].n === 3 && t[2].sum > 0; }",
        timeout=TIMEOUT)  # B (Child Money) costs more than A (no policy) every year
    _shot(page, tmp_path, "side-by-side")
    assert errors == [], f"uncaught page errors: {errors}"


def test_results_page_opens(app_url, page, page_errors):
    errors = page_errors(page)
    page.goto(app_url + "results")
    page.get_by_label("Results folder (or a batch folder)").wait_for(timeout=TIMEOUT)
    assert errors == [], f"uncaught page errors: {errors}"
