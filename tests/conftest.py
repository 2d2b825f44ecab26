"""Shared pytest fixtures and environment for every test folder.

The test folders mirror the code: model/ (unit tests of model modules and the
pattern tests of docs/ODD.md), run/, analysis/, report/, webapp/ (the
experiments/ packages), commands/ (the command line's refusal of bad input) and
browser/ (end-to-end tests in Chromium, with their own conftest.py). Helpers
shared by several folders (small_scenarios.py) sit here; tests/ is on sys.path
(``pythonpath`` in pyproject.toml), so they are imported by name.

Fixtures defined here
---------------------
``chromium_path`` (session) -> str
    Path of the system Chromium (Debian's ``/usr/bin/chromium``, apt package
    ``chromium``; Playwright's own download, ``playwright install``, is never
    used). If it is missing the test is *skipped* with the reason, except when
    the environment has ``CI=true``: then it *fails*, so that CI never passes by
    skipping every browser test. Every test marked ``@pytest.mark.browser``
    requests it automatically (in any folder: report/test_brief.py has one).

kaleido (plotly static images) drives a Chromium through ``choreographer``.
choreographer looks for a browser in this order: its own download (from
``kaleido_get_chrome``/``plotly_get_chrome``, which we never run), the
``BROWSER_PATH`` environment variable, then ``chromium``/``google-chrome``/...
on ``PATH``. We set ``BROWSER_PATH=/usr/bin/chromium`` here (unless already
set) so tests use the system Chromium explicitly. Solara's telemetry is turned
off here for every server, in-process or subprocess.

The Playwright and ``solara run`` fixtures (``browser_type_launch_args``,
``browser_context_args``, ``solara_run_server``, ``page_errors``) are in
browser/conftest.py.
"""

from __future__ import annotations

import contextlib
import os

import pytest

SYSTEM_CHROMIUM = "/usr/bin/chromium"

# Environment for every Solara server we start (in-process and subprocess): no
# telemetry calls home. (The PyPI version check is turned off by --no-check-version.)
SOLARA_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _find_chromium() -> str | None:
    candidate = os.environ.get("HERDTRAP_CHROMIUM", SYSTEM_CHROMIUM)
    return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None


# kaleido/choreographer: use the system Chromium (see module docstring).
if (_chromium := _find_chromium()) is not None:
    os.environ.setdefault("BROWSER_PATH", _chromium)
for _key, _value in SOLARA_ENV.items():
    os.environ.setdefault(_key, _value)
# pytest-ipywidgets imports solara's settings before this file is read, so the
# environment variable above is too late for the in-process server: set it directly.
with contextlib.suppress(ImportError):
    import solara.server.settings as _solara_settings

    _solara_settings.telemetry.mixpanel_enable = False


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the system Chromium; skip (locally) or fail (CI=true) if it is missing."""
    path = _find_chromium()
    if path is None:
        msg = (
            f"system Chromium not found at {os.environ.get('HERDTRAP_CHROMIUM', SYSTEM_CHROMIUM)}"
            " - install it with `apt-get install -y chromium` (never `playwright install`)"
        )
        if _in_ci():
            pytest.fail(f"CI=true and {msg}", pytrace=False)
        pytest.skip(msg)
    return path


@pytest.fixture(autouse=True)
def _browser_tests_need_chromium(request: pytest.FixtureRequest) -> None:
    """Give every ``@pytest.mark.browser`` test the skip/fail rule of ``chromium_path``."""
    if request.node.get_closest_marker("browser") is not None:
        request.getfixturevalue("chromium_path")
