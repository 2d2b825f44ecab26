"""End-to-end smoke tests of the browser machinery (not of herdtrap's model).

They prove, on a throwaway Mesa model, that:

* a SolaraViz app with a plotly ``solara.FigurePlotly`` component and a Mesa
  ``make_plot_component`` (matplotlib) renders in headless Debian Chromium from
  a real ``solara run`` server, fetching nothing from outside this machine,
  raising no page error, and that clicking "Step" advances the model and the
  plots (``solara_run_server`` fixture, see conftest.py);
* pytest-ipywidgets' in-process ``solara_test`` fixture works with the same
  Chromium (for component-level tests);
* kaleido writes PNG and SVG figures through the system Chromium.
"""

from __future__ import annotations

import re
import textwrap
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

# A tiny Mesa model and SolaraViz page, written to a file and served by `solara run`.
TOY_APP = textwrap.dedent(
    '''
    """Throwaway SolaraViz app for tests/browser/test_browser_smoke.py."""
    import mesa
    import plotly.graph_objects as go
    import solara
    from mesa.visualization import SolaraViz, make_plot_component


    class ToyModel(mesa.Model):
        """Wealth grows by `growth` each step; no agents needed."""

        def __init__(self, growth=1.0, rng=None):
            super().__init__(rng=rng)
            self.growth = growth
            self.wealth = 0.0
            self.datacollector = mesa.DataCollector(model_reporters={"Wealth": "wealth"})
            self.datacollector.collect(self)

        def step(self):
            self.wealth += self.growth
            self.datacollector.collect(self)


    def PlotlyWealth(model):
        df = model.datacollector.get_model_vars_dataframe()
        fig = go.Figure(
            go.Scatter(x=list(range(len(df))), y=df["Wealth"].tolist(), mode="lines+markers")
        )
        fig.update_layout(title="Wealth (plotly)", height=320, margin=dict(l=40, r=10, t=40, b=30))
        return solara.FigurePlotly(fig)


    model_params = {
        "growth": {
            "type": "SliderFloat", "value": 1.0, "label": "Growth",
            "min": 0.0, "max": 5.0, "step": 0.5,
        },
    }
    page = SolaraViz(
        ToyModel(),
        components=[PlotlyWealth, make_plot_component("Wealth")],
        model_params=model_params,
        name="Toy smoke model",
    )
    '''
)

# JavaScript: number of points in the first trace of the plotly graph.
PLOTLY_POINTS_JS = """() => {
    const el = document.querySelector('.js-plotly-plot');
    return el && el.data && el.data[0] ? el.data[0].y.length : -1;
}"""


@pytest.fixture(scope="module")
def toy_app_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("toy_app") / "toy_app.py"
    path.write_text(TOY_APP)
    return path


def _is_local(url: str) -> bool:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in {"data", "blob", "about"}:
        return True
    return parsed.hostname in {"127.0.0.1", "localhost", "::1"}


def test_solaraviz_app_renders_and_steps(
    solara_run_server, toy_app_file, page, page_errors, tmp_path
):
    # Production mode, as `herdtrap app` runs it. In development mode solara watches the
    # app's folder through inotify, and a CI run failed when the machine's 128 inotify
    # instances per user were taken ("inotify instance limit reached").
    url = solara_run_server(toy_app_file, cwd=toy_app_file.parent,
                            env={"SOLARA_MODE": "production"})
    errors = page_errors(page)
    outside: list[str] = []
    page.on("request", lambda req: None if _is_local(req.url) else outside.append(req.url))

    page.goto(url)
    step = page.get_by_role("button", name="Step")
    step.wait_for(state="visible", timeout=60_000)
    time_text = page.get_by_text(re.compile(r"^Time: 0(\.0)?$"))
    time_text.wait_for(timeout=30_000)

    # Both components rendered inside SolaraViz's draggable grid (needs the offline asset).
    page.locator(".vue-grid-layout").first.wait_for(timeout=30_000)
    page.wait_for_function(f"({PLOTLY_POINTS_JS})() === 1", timeout=30_000)
    mpl_img = page.locator(".vue-grid-layout img").first
    mpl_img.wait_for(timeout=30_000)
    mpl_src_before = mpl_img.get_attribute("src")
    assert mpl_src_before

    step.click()
    page.get_by_text(re.compile(r"^Time: 1(\.0)?$")).wait_for(timeout=30_000)
    page.wait_for_function(f"({PLOTLY_POINTS_JS})() === 2", timeout=30_000)
    page.wait_for_function(
        "(before) => { const img = document.querySelector('.vue-grid-layout img');"
        " return img && img.getAttribute('src') !== before; }",
        arg=mpl_src_before,
        timeout=30_000,
    )

    shot = tmp_path / "solaraviz-toy.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000

    assert errors == [], f"uncaught page errors: {errors}"
    assert outside == [], f"page fetched from outside this machine: {outside}"


def test_solara_test_fixture_uses_system_chromium(solara_test, page_session):
    """pytest-ipywidgets' in-process server + page_session run in the same Chromium."""
    import plotly.graph_objects as go
    import solara
    from IPython.display import display

    @solara.component
    def Counter():
        clicks = solara.use_reactive(0)
        solara.Button(f"Clicked {clicks.value}", on_click=lambda: clicks.set(clicks.value + 1))
        solara.FigurePlotly(go.Figure(go.Bar(y=list(range(clicks.value + 1)))))

    box, _rc = solara.render(Counter(), handle_error=False)
    display(box)
    page_session.get_by_role("button", name="Clicked 0").click()
    page_session.get_by_role("button", name="Clicked 1").wait_for()
    page_session.wait_for_function(f"({PLOTLY_POINTS_JS})() === 2")
    user_agent = page_session.evaluate("navigator.userAgent")
    assert "HeadlessChrome" in user_agent or "Chrome" in user_agent


def test_kaleido_writes_png_and_svg(chromium_path, tmp_path):
    import os

    import plotly.graph_objects as go

    from experiments.report.figures import export_figure

    # conftest.py sets BROWSER_PATH to the system Chromium unless the user set it already.
    assert os.path.isfile(os.environ.get("BROWSER_PATH", chromium_path))
    fig = go.Figure(go.Scatter(x=[0, 1, 2, 3], y=[3, 1, 2, 4], name="herd"))
    fig.update_layout(title="kaleido smoke", width=480, height=320)

    # herdtrap's exporter (the path every report takes), not plotly's write_image: it
    # retries kaleido's occasional blank-page render on a busy machine.
    png, svg = export_figure(fig, tmp_path / "figure")

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 2_000
    text = svg.read_text()
    assert "<svg" in text and "kaleido smoke" in text
