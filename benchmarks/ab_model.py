"""Side-by-side speed of two checkouts of herdtrap, interleaved in one process.

    python benchmarks/ab_model.py OLD_DIR NEW_DIR [--pairs 20] [--large 100000]

A noisy machine (shared cores, CPU steal) moves the time of a run by 30% or more
from one minute to the next, so two benchmarks run one after the other can disagree
by more than the difference they are meant to show. This script loads the ``model``
package of both checkouts into one process (swapping ``sys.modules`` before each
run), warms both, and then alternates them run by run (ABBA order), so both see the
same machine. It prints, for the default run (2,240 households x 30 years, with Mesa
agents, as ``benchmarks/bench_model.py``), the CPU time of each version and the
median of the paired ratios NEW/OLD with its interquartile range; with ``--large``,
household-seasons per CPU second when stepping that many households for 40 seasons
(three alternations). Make a checkout of the old commit with
``git worktree add /tmp/old <commit>``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

_PACKAGES = ("model", "scenarios")


def _ours(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _PACKAGES)


def _load(directory: Path) -> dict:
    """Import the checkout's packages; return its modules (removed from sys.modules)."""
    for k in [k for k in sys.modules if _ours(k)]:
        del sys.modules[k]
    sys.path.insert(0, str(directory))
    try:
        import model  # noqa: F401
    finally:
        sys.path.remove(str(directory))
    mods = {k: v for k, v in sys.modules.items() if _ours(k)}
    for k in mods:
        del sys.modules[k]
    return mods


def _use(mods: dict):
    """Make ``mods`` the imported packages (lazy imports inside functions resolve to
    them) and return the version's model package."""
    for k in [k for k in sys.modules if _ours(k)]:
        del sys.modules[k]
    sys.modules.update(mods)
    return mods["model"]


def default_runs(versions: dict[str, dict], pairs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {tag: [] for tag in versions}
    tags = list(versions)
    for tag in tags:  # warm caches and imports
        m = _use(versions[tag])
        m.HerdtrapModel(m.load_scenario("baseline"), seed=0, create_agents=False).run()
    for i in range(pairs):
        for tag in tags if i % 2 == 0 else tags[::-1]:
            m = _use(versions[tag])
            scenario = m.load_scenario("baseline")
            gc.collect()
            t0 = time.process_time()
            m.HerdtrapModel(scenario, seed=i % 7 + 1).run()
            times[tag].append(time.process_time() - t0)
    return times


def throughput(versions: dict[str, dict], n: int, rounds: int = 3) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {tag: [] for tag in versions}
    tags = list(versions)
    for r in range(rounds):
        for tag in tags if r % 2 == 0 else tags[::-1]:
            m = _use(versions[tag])
            scenario = m.load_scenario("baseline", params={"population.households": n})
            model = m.HerdtrapModel(scenario, seed=1, create_agents=False, panel_rows=None)
            done, t0 = 0, time.process_time()
            for _ in range(40):
                hh = model.households
                alive = getattr(hh, "alive", None)  # (older versions: a fixed table)
                done += int(alive.sum()) if alive is not None else hh.n
                model.step()
            rates[tag].append(done / (time.process_time() - t0))
            del model
            gc.collect()
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--large", type=int, default=0,
                    help="also measure throughput at this many households (e.g. 100000)")
    args = ap.parse_args()
    for d in (args.old, args.new):
        if not (d / "model" / "__init__.py").is_file():
            ap.error(f"{d} is not a herdtrap checkout (no model/__init__.py)")
    versions = {"old": _load(args.old), "new": _load(args.new)}
    times = default_runs(versions, args.pairs)
    for tag, d in (("old", args.old), ("new", args.new)):
        t = sorted(times[tag])
        print(f"default run, {tag} ({d}): median {statistics.median(t):.3f} s, "
              f"min {t[0]:.3f} s (CPU, {len(t)} runs)")
    ratios = sorted(b / a for a, b in zip(times["old"], times["new"], strict=True))
    q = len(ratios) // 4
    print(f"new/old, median of {len(ratios)} paired ratios: {statistics.median(ratios):.3f} "
          f"(interquartile range {ratios[q]:.3f}-{ratios[-q - 1]:.3f})")
    if args.large:
        rates = throughput(versions, args.large)
        for tag in ("old", "new"):
            print(f"{args.large:,} households, {tag}: "
                  + ", ".join(f"{r / 1e6:.2f}M" for r in rates[tag]) + " household-seasons/s")
        print(f"new/old, median of paired ratios: "
              f"{statistics.median(b / a for a, b in zip(rates['old'], rates['new'], strict=True)):.3f}")


if __name__ == "__main__":
    main()
