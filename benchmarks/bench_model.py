"""Model speed: the default run and throughput at 100,000 households.

    python benchmarks/bench_model.py [--repeats 7] [--large 100000] [--seasons 40]

Prints (1) the median wall time of the default run (scenarios/baseline.toml:
2,240 households x 30 years = 120 seasons, in process, imports excluded,
model construction included) and (2) household-seasons per second when
stepping 100,000 households (construction excluded; the households living in each
season count, as the table grows with demography). Targets on the 2-core
reference machine: (1) <= 0.3 s, (2) >= 1,000,000 household-seasons/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import HerdtrapModel, load_scenario  # noqa: E402


def default_run(repeats: int) -> list[float]:
    scenario = load_scenario("baseline")
    HerdtrapModel(scenario, seed=0, create_agents=False).run()  # warm caches
    times = []
    for seed in range(repeats):
        t0 = time.perf_counter()
        HerdtrapModel(scenario, seed=seed).run()  # with Mesa agents, as a notebook user gets
        times.append(time.perf_counter() - t0)
    return times


def throughput(n: int, seasons: int) -> tuple[float, float]:
    scenario = load_scenario("baseline", params={"population.households": n})
    t0 = time.perf_counter()
    m = HerdtrapModel(scenario, seed=1, create_agents=False, panel_rows=None)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = 0  # household-seasons of the households living in each season (the table grows)
    for _ in range(seasons):
        done += int(m.households.alive.sum())
        m.step()
    elapsed = time.perf_counter() - t0
    return done / elapsed, setup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--seasons", type=int, default=40)
    args = ap.parse_args()
    times = default_run(args.repeats)
    print(f"default run (2,240 households x 30 years, with Mesa agents): "
          f"median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
          f"max {max(times):.3f} s over {args.repeats} runs (target <= 0.3 s)")
    rate, setup = throughput(args.large, args.seasons)
    print(f"{args.large:,} households: {rate:,.0f} household-seasons/s over {args.seasons} seasons "
          f"(setup {setup:.2f} s; target >= 1,000,000)")


if __name__ == "__main__":
    main()
