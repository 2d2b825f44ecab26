"""How fast the browser app steps: seasons per second with 2,240 households.

Measures three layers, each over the same number of seasons:

1. the model alone (``AppModel.step``: HerdtrapModel + the app's per-season log);
2. the model plus building the six Explore figures (plotly);
3. the whole Explore page rendered by Solara (``solara.render`` of the page in
   an AppLayout) with its "Step" button clicked: model step, Mesa's SolaraViz
   re-render, every view and every plotly widget update - what the server does
   for one season in the browser (without the websocket transfer and the
   browser's own drawing, which run in parallel with the next step).

Reports wall-clock and CPU rates (the CPU rate is what the app needs of one
core; wall-clock also counts other programs on a busy machine).

Usage: .venv/bin/python benchmarks/bench_app.py [--seasons 40] [--households 2240]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _rate(n: int, wall: float, cpu: float) -> str:
    return f"{n / wall:7.1f} seasons/s wall ({1000 * wall / n:6.1f} ms), " \
           f"{n / cpu:7.1f} seasons/s CPU ({1000 * cpu / n:6.1f} ms)"


def bench_model(n: int, households: int) -> tuple[float, float]:
    from experiments.webapp.appmodel import AppModel

    m = AppModel(households=households, years=60)
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        m.step()
    return time.perf_counter() - t, time.process_time() - c


def bench_figures(n: int, households: int) -> tuple[float, float]:
    from experiments.webapp import figures
    from experiments.webapp.appmodel import AppModel

    m = AppModel(households=households, years=60)
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        m.step()
        figures.outcomes_figure(m)
        figures.herd_distribution_figure(m)
        figures.soum_figure(m)
        figures.stock_figure(m)
        figures.household_figure(m, 0)
        figures.fiscal_figure(m)
    return time.perf_counter() - t, time.process_time() - c


def bench_page(n: int, households: int, render_interval: int = 1) -> tuple[float, float]:
    import ipyvuetify as v
    import solara

    from experiments.webapp import appmodel, explore

    params = appmodel.model_params
    appmodel_households = households

    def patched_params():
        p = params()
        p["households"]["value"] = appmodel_households
        return p

    explore.model_params = patched_params  # the page's default household count

    @solara.component
    def Shell():
        with solara.AppLayout():
            explore.ExplorePage()

    _box, rc = solara.render(Shell(), handle_error=False)
    # the page's first model uses AppModel's default (2,240); rebuild with the count asked
    if households != 2240:
        rc.find(v.Btn, children=["Reset"]).widget.click()
    step = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(4):  # warm up: first widgets, first year
        step.click()
    if render_interval != 1:  # SolaraViz's "Render Interval (steps)" slider
        rc.find(v.Slider, label="Render Interval (steps)").widget.v_model = render_interval
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n // render_interval):
        step.click()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    rc.close()
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seasons", type=int, default=40, help="seasons to time (default 40)")
    parser.add_argument("--households", type=int, default=2240)
    args = parser.parse_args(argv)
    n, hh = args.seasons, args.households
    print(f"herdtrap app benchmark: {hh} households, {n} seasons per layer")
    results = {}
    for name, fn in (("model step", bench_model), ("model + 6 figures", bench_figures),
                     ("full Explore page (Solara)", bench_page),
                     ("  same, redraw once a year", lambda n, hh: bench_page(n, hh, 4))):
        wall, cpu = fn(n, hh)
        results[name] = (wall, cpu)
        print(f"  {name:28s} {_rate(n, wall, cpu)}")
    wall, cpu = results["full Explore page (Solara)"]
    ok = n / cpu >= 10
    print(f"target >= 10 seasons/s (CPU): {'met' if ok else 'NOT met'} ({n / cpu:.1f}/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
