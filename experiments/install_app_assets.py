"""Install the front-end file that Mesa's SolaraViz needs but solara-assets lacks.

Solara normally fetches front-end JavaScript from a CDN when a page loads. The
``solara-assets`` package ships almost all of those files in the environment's
``share/solara/cdn`` folder, so the app works with no internet - except for
``@widgetti/vue-grid-layout@2.3.13-alpha.2``, the draggable grid that SolaraViz
lays its components out with. Without it the app's main area stays empty and no
error is shown (see ``shared/design/SOLARA_OFFLINE.md``).

This script puts that package into the folder Solara serves CDN files from
(``solara.server.settings.assets.proxy_cache_dir``):

* it asks the installed Solara for that folder (or takes ``--cache-dir``);
* if the package is already there it does nothing (no network needed);
* otherwise it runs ``npm pack`` (the npm registry is reachable where PyPI is),
  or takes a tarball you already have (``--tarball``), checks the tarball's
  SHA-512 against the registry's published integrity, and unpacks its
  ``package/`` folder into ``<cache>/@widgetti/vue-grid-layout@2.3.13-alpha.2``
  atomically (a half-finished copy never counts as installed).

Usage::

    python experiments/install_app_assets.py            # install if missing
    python experiments/install_app_assets.py --check    # exit 1 if missing
    python experiments/install_app_assets.py --tarball vue-grid-layout-2.3.13-alpha.2.tgz

Run it with the Python of the environment that runs the app (``make setup`` does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NPM_NAME = "@widgetti/vue-grid-layout"
VERSION = "2.3.13-alpha.2"
# `npm view @widgetti/vue-grid-layout@2.3.13-alpha.2 dist.integrity`
INTEGRITY = "sha512-zCPKe2r09eLUDl1NcdL66oPELDsbC07Z2xejPiQpPbE8hLITcr0DHvPEdL5UITQQilordKJwcxJXDE/QWo/KUA=="
# The file Solara's GridDraggable imports (solara/widgets/vue/gridlayout.vue).
ENTRY_FILE = "dist/vue-grid-layout.umd.js"


def solara_cdn_cache_dir() -> Path:
    """Return the folder Solara serves ``/_solara/cdn/...`` from in this environment."""
    try:
        from solara.server import settings
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "install_app_assets: solara is not installed in this Python "
            f"({sys.executable}); install the app extra first: pip install -e '.[app]'"
        ) from exc
    return Path(settings.assets.proxy_cache_dir)


def target_dir(cache_dir: Path) -> Path:
    return cache_dir / f"{NPM_NAME}@{VERSION}"


def is_installed(cache_dir: Path) -> bool:
    target = target_dir(cache_dir)
    try:
        meta = json.loads((target / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("name") == NPM_NAME
        and meta.get("version") == VERSION
        and (target / ENTRY_FILE).is_file()
    )


def _check_integrity(tarball: Path) -> None:
    algo, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise SystemExit(
            f"install_app_assets: {tarball} does not match the registry's integrity "
            f"for {NPM_NAME}@{VERSION} (got {algo}-{digest}, expected {INTEGRITY})"
        )


def _npm_pack(dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "install_app_assets: npm is not on PATH and the SolaraViz grid asset is missing.\n"
            f"Install Node.js/npm (Debian: apt-get install -y npm), or fetch "
            f"{NPM_NAME}@{VERSION} elsewhere with `npm pack` and pass --tarball FILE."
        )
    cmd = [npm, "pack", f"{NPM_NAME}@{VERSION}", "--silent"]
    print(f"install_app_assets: {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.run(
        cmd, cwd=dest, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300
    )
    tarballs = sorted(dest.glob("*.tgz"))
    if proc.returncode != 0 or len(tarballs) != 1:
        raise SystemExit(
            f"install_app_assets: `npm pack` failed (exit {proc.returncode}).\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return tarballs[0]


def _unpack(tarball: Path, target: Path) -> None:
    """Extract the tarball's ``package/`` folder to ``target``, replacing it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".vue-grid-layout-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the files are public JavaScript
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            members = []
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if len(parts) < 2 or parts[0] != "package":
                    continue
                member.name = str(Path(*parts[1:]))
                members.append(member)
            tar.extractall(staging, members=members, filter="data")
        if not (staging / ENTRY_FILE).is_file():
            raise SystemExit(f"install_app_assets: {tarball} has no package/{ENTRY_FILE}")
        old = None
        if target.exists():
            old = target.with_name(target.name + f".old-{os.getpid()}")
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def install(cache_dir: Path, tarball: Path | None = None, force: bool = False) -> bool:
    """Install the asset into ``cache_dir``. Return True if anything was written."""
    if is_installed(cache_dir) and not force:
        return False
    with tempfile.TemporaryDirectory(prefix="herdtrap-assets-") as tmp:
        if tarball is None:
            tarball = _npm_pack(Path(tmp))
        _check_integrity(tarball)
        _unpack(tarball, target_dir(cache_dir))
    if not is_installed(cache_dir):  # pragma: no cover - defensive
        raise SystemExit(f"install_app_assets: installation into {cache_dir} did not verify")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="Solara CDN cache folder (default: solara.server.settings.assets.proxy_cache_dir)",
    )
    parser.add_argument("--tarball", type=Path, help="use this npm tarball instead of npm pack")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if missing")
    parser.add_argument("--force", action="store_true", help="reinstall even if present")
    args = parser.parse_args(argv)

    cache_dir = args.cache_dir or solara_cdn_cache_dir()
    target = target_dir(cache_dir)
    if args.check:
        ok = is_installed(cache_dir)
        state = "present" if ok else "MISSING"
        print(f"install_app_assets: {NPM_NAME}@{VERSION} {state} in {cache_dir}")
        return 0 if ok else 1
    if install(cache_dir, tarball=args.tarball, force=args.force):
        print(f"install_app_assets: installed {NPM_NAME}@{VERSION} into {target}")
    else:
        print(f"install_app_assets: {NPM_NAME}@{VERSION} already present in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
