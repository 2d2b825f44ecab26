"""How fast the browser app steps: seasons per second with 2,240 households.

Measures three layers, each over the same number of seasons:

1. the model alone (``AppModel.step``: HerdtrapModel + the app's per-season log);
2. the model plus building the six Explore figures (and turning them into the
   JSON the plot widgets send, where the app does that);
3. the whole Explore page as the Solara server runs it for one browser tab: the
   app's routes and layout rendered in a Solara virtual kernel (the server's
   own Kernel, session and comms), "Step" clicked, so each season costs the
   model step, Mesa's SolaraViz re-render, every view, every widget update,
   and the serialisation of every message to the websocket wire format
   (counted, not sent). Not included: the network and the browser's drawing,
   which run in parallel with the next step.

Reports wall-clock and CPU rates (the CPU rate is what the app needs of one
core; wall-clock also counts other programs on a busy machine), and the bytes
sent to the browser per season.

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
    from experiments.webapp import figures, plotly_view
    from experiments.webapp.appmodel import AppModel

    to_json = getattr(plotly_view, "figure_text", lambda fig: fig)
    m = AppModel(households=households, years=60)
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        m.step()
        for fig in (figures.outcomes_figure(m), figures.herd_distribution_figure(m),
                    figures.soum_figure(m), figures.stock_figure(m),
                    figures.household_figure(m, 0), figures.fiscal_figure(m)):
            to_json(fig)
    return time.perf_counter() - t, time.process_time() - c


class _CountingSocket:
    """Stands in for the browser's websocket: counts what the server would send."""

    def __init__(self) -> None:
        self.bytes = 0

    def send(self, data: str | bytes) -> None:
        self.bytes += len(data.encode() if isinstance(data, str) else data)

    send_text = send_bytes = send

    def close(self) -> None:
        pass


#: Bytes sent to the browser per season, by the last bench_page call.
SENT: dict[int, float] = {}


def bench_page(n: int, households: int, render_interval: int = 1) -> tuple[float, float]:
    import ipyvuetify as v
    import solara
    import solara.autorouting
    import solara.server.starlette  # noqa: F401 - the server's modules, as `solara run` loads them
    from solara.server import kernel, kernel_context

    from experiments import webapp
    from experiments.webapp import appmodel, explore

    params = appmodel.model_params
    appmodel_households = households

    def patched_params():
        p = params()
        p["households"]["value"] = appmodel_households
        return p

    explore.model_params = patched_params  # the page's default household count

    socket = _CountingSocket()
    server_kernel = kernel.Kernel()
    server_kernel.session.websockets.add(socket)
    context = kernel_context.VirtualKernelContext(id="bench", kernel=server_kernel,
                                                  session_id="bench")
    with context:
        # what the server renders for app.py at "/": the routes with their layout
        page = solara.RoutingProvider(children=[solara.autorouting.RenderPage()],
                                      routes=webapp.routes, pathname="/")
        _box, rc = solara.render(page, handle_error=False)
        # the page's first model uses AppModel's default (2,240); rebuild with the count asked
        if households != 2240:
            rc.find(v.Btn, children=["Reset"]).widget.click()
        step = rc.find(v.Btn, children=["Step"]).widget
        for _ in range(4):  # warm up: first widgets, first year
            step.click()
        if render_interval != 1:  # SolaraViz's "Render Interval (steps)" slider
            rc.find(v.Slider, label="Render Interval (steps)").widget.v_model = render_interval
        sent = socket.bytes
        t, c = time.perf_counter(), time.process_time()
        for _ in range(n // render_interval):
            step.click()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        SENT[render_interval] = (socket.bytes - sent) / n
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
    for name, fn, interval in (("model step", bench_model, None),
                               ("model + 6 figures", bench_figures, None),
                               ("full Explore page (Solara)", bench_page, 1),
                               ("  same, redraw once a year", lambda n, hh: bench_page(n, hh, 4), 4)):
        wall, cpu = fn(n, hh)
        results[name] = (wall, cpu)
        sent = f", {SENT[interval] / 1000:5.1f} kB/season sent" if interval else ""
        print(f"  {name:28s} {_rate(n, wall, cpu)}{sent}")
    wall, cpu = results["full Explore page (Solara)"]
    ok = n / cpu >= 10
    print(f"target >= 10 seasons/s (CPU): {'met' if ok else 'NOT met'} ({n / cpu:.1f}/s; "
          f"{n / wall:.1f}/s wall-clock on this machine now)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
