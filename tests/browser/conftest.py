"""Fixtures of the browser tests (``@pytest.mark.browser``): Playwright in the system
Chromium and real ``solara run`` servers. ``chromium_path`` and the environment
(BROWSER_PATH, no Solara telemetry) come from tests/conftest.py.

Fixtures defined here
---------------------
``browser_type_launch_args`` (session) -> dict
    Overrides pytest-playwright's fixture so that *every* Playwright browser in
    the session - pytest-playwright's ``page``/``context``/``browser`` and
    pytest-ipywidgets' ``page_session``/``solara_test`` - is the system Chromium,
    headless, with :data:`CHROMIUM_ARGS`. ``--headed``/``--slowmo`` still work.

``browser_context_args`` (session) -> dict
    pytest-playwright's, plus a fixed 1280x900 viewport for stable screenshots.

``solara_run_server`` (session) -> ``start(app, *, cwd=None, env=None, timeout=120) -> url``
    Starts a real ``solara run APP`` subprocess (the same server users get)
    bound to 127.0.0.1 on a free port, waits until it answers HTTP, and returns
    its base URL such as ``"http://127.0.0.1:41234/"``. ``app`` is anything
    ``solara run`` accepts: a ``.py`` file path, ``path.py:Component`` or a
    module name such as ``"model.app"``. One server per distinct ``(app, cwd,
    env)`` is started and reused for the whole session; all are killed when the
    session ends. Its log is kept and shown if it fails to start or dies. (It
    is not called ``solara_server`` because pytest-ipywidgets already defines
    a fixture of that name, which ``solara_test`` depends on.)

``page_errors`` (function) -> ``(page) -> list[str]``
    Attaches listeners to a Playwright page and returns a list that fills with
    every uncaught page error (``pageerror``) - the only place Vue/Solara
    front-end failures show up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Flags for every Chromium we start. Headless mode itself comes from Playwright's
# `headless=True` (the default), so that `pytest --headed` can still override it.
# Without the networking flags Chromium keeps trying to reach Google's services,
# which our closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI; the setuid sandbox refuses root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm on some machines
]

# Environment for every Solara server we start (as tests/conftest.py sets for this process).
SOLARA_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, chromium_path: str) -> dict:
    """pytest-playwright's launch options, pointed at the system Chromium."""
    args = list(browser_type_launch_args.get("args", []))
    args += [a for a in CHROMIUM_ARGS if a not in args]
    return {
        "headless": True,
        "timeout": 60_000,
        **browser_type_launch_args,  # keeps --headed, --slowmo and per-test params
        "executable_path": chromium_path,
        "args": args,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {"viewport": {"width": 1280, "height": 900}, **browser_context_args}


@pytest.fixture
def page_errors() -> Callable[..., list[str]]:
    """``watch(page) -> errors``: collect uncaught page errors of a Playwright page."""

    def watch(page) -> list[str]:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return errors

    return watch


# --------------------------------------------------------------------------- Solara server


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class SolaraServerProcess:
    """A ``solara run`` subprocess; see the ``solara_run_server`` fixture."""

    app: str
    url: str
    process: subprocess.Popen
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    def log(self, tail: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-tail:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()


def _solara_assets_hint() -> str | None:
    """A message if SolaraViz's grid asset is missing from this environment, else None."""
    try:
        from solara.server import settings
    except ImportError:
        return None
    target = (
        Path(settings.assets.proxy_cache_dir)
        / "@widgetti"
        / "vue-grid-layout@2.3.13-alpha.2"
        / "dist"
        / "vue-grid-layout.umd.js"
    )
    if target.is_file():
        return None
    return (
        f"{target} is missing, so SolaraViz would render an empty page offline. "
        f"Run `make setup` or `{sys.executable} experiments/install_app_assets.py`."
    )


def start_solara_server(
    app: str | os.PathLike,
    *,
    log_dir: Path,
    cwd: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    timeout: float = 120.0,
) -> SolaraServerProcess:
    """Start ``solara run APP`` on a free port of ``host`` and wait until it answers."""
    log_dir.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _attempt in range(3):  # the free port can be taken between probe and bind
        port = _free_port(host)
        log_path = log_dir / f"solara-{port}.log"
        log_file = open(log_path, "w")  # noqa: SIM115 - closed by SolaraServerProcess.stop
        cmd = [
            sys.executable, "-m", "solara", "run", str(app),
            "--host", host, "--port", str(port),
            "--no-open", "--no-check-version", "--log-level", "info",
        ]  # fmt: skip
        proc_env = {**os.environ, **SOLARA_ENV, "PYTHONUNBUFFERED": "1", **(env or {})}
        process = subprocess.Popen(
            cmd,
            cwd=cwd or REPO_ROOT,
            env=proc_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so stop() kills its children too
        )
        server = SolaraServerProcess(
            str(app), f"http://{host}:{port}/", process, log_path, log_file
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.alive():
            try:
                with urllib.request.urlopen(server.url + "readyz", timeout=5) as resp:
                    if resp.status == 200:
                        return server
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        last_error = server.log()
        server.stop()
        if "address already in use" not in last_error.lower():
            break
    raise RuntimeError(
        f"`solara run {app}` did not answer within {timeout:.0f}s. "
        f"Last lines of its log:\n{last_error}"
    )


@pytest.fixture(scope="session")
def solara_run_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """Factory fixture: ``start(app, *, cwd=None, env=None, timeout=120) -> base URL``.

    Example::

        @pytest.mark.browser
        def test_app(solara_run_server, page, page_errors):
            url = solara_run_server("app.py")          # or "model.app", "x.py:Page"
            errors = page_errors(page)
            page.goto(url)
            page.get_by_role("button", name="Step").click()
            assert errors == []
    """
    servers: dict[tuple, SolaraServerProcess] = {}
    log_dir = tmp_path_factory.mktemp("solara-servers")

    def start(
        app: str | os.PathLike,
        *,
        cwd: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120.0,
    ) -> str:
        if (hint := _solara_assets_hint()) is not None:
            pytest.fail(hint, pytrace=False)
        key = (str(app), str(cwd), tuple(sorted((env or {}).items())))
        server = servers.get(key)
        if server is not None and not server.alive():
            pytest.fail(
                f"solara server for {app} died earlier; its log:\n{server.log()}", pytrace=False
            )
        if server is None:
            try:
                server = start_solara_server(
                    app, log_dir=log_dir, cwd=cwd, env=env, timeout=timeout
                )
            except RuntimeError as exc:
                pytest.fail(str(exc), pytrace=False)
            servers[key] = server
        return server.url

    yield start
    for server in servers.values():
        server.stop()
