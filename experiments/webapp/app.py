"""`herdtrap app`: start the browser app (Solara + Mesa SolaraViz) on localhost.

Runs ``solara run app.py`` (the repository's top-level app module) with the
venv's Solara, bound to 127.0.0.1 unless ``--host`` says otherwise. Nothing is
fetched from a CDN: the front-end files come from solara-assets and the
grid-layout asset installed by ``make setup``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from experiments.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_FILE = REPO_ROOT / "app.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1, this machine only; "
                             "0.0.0.0 to let other machines connect)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--open", action="store_true", help="open a browser tab")
    parser.add_argument("--dev", action="store_true",
                        help="reload the app when its source changes (development)")


def solara_executable() -> str:
    """The venv's ``solara`` next to this Python, else one on PATH."""
    here = Path(sys.executable).parent / "solara"
    if here.exists():
        return str(here)
    found = shutil.which("solara")
    if found is None:
        raise UsageError("solara is not installed in this environment; run `make setup` "
                         "(or pip install 'herdtrap[app]')")
    return found


def command(args: argparse.Namespace) -> list[str]:
    cmd = [solara_executable(), "run", str(APP_FILE), "--host", args.host,
           "--port", str(args.port), "--no-check-version"]
    if not args.open:
        cmd.append("--no-open")
    if not args.dev:
        cmd.append("--production")
    return cmd


def main(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is outside 1-65535")
    hint = _missing_asset()
    if hint:
        print(f"herdtrap app: warning: {hint}", file=sys.stderr)
    cmd = command(args)
    shown = "localhost" if args.host in ("127.0.0.1", "localhost") else args.host
    print(f"herdtrap app: http://{shown}:{args.port}/  (Explore, Side by side, Results; "
          "Ctrl-C to stop)", flush=True)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    os.chdir(REPO_ROOT)
    os.execve(cmd[0], cmd, env)
    return 0  # pragma: no cover - execve does not return


def _missing_asset() -> str | None:
    """A hint if SolaraViz's grid asset is missing (the page would stay empty offline)."""
    try:
        from solara.server import settings
    except ImportError:
        return None
    target = (Path(settings.assets.proxy_cache_dir) / "@widgetti"
              / "vue-grid-layout@2.3.13-alpha.2" / "dist" / "vue-grid-layout.umd.js")
    if target.is_file():
        return None
    return (f"{target} is missing, so the app's main area would stay empty offline; "
            f"run `make setup` or `{sys.executable} experiments/install_app_assets.py`")
