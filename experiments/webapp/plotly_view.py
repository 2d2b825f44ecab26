"""Plotly figures in Solara: fast to redraw every season, light to load.

Two things ``solara.FigurePlotly`` does that the app cannot afford:

* it compares each new figure with the old one (``Figure.__eq__`` serialises
  both) on every render - about a quarter of the app's time per step.
  :func:`PlotlyView` takes the figure in a :class:`FigureBox`, which compares
  by identity, so each new figure goes straight to the widget;
* every plotly ``FigureWidget`` (an anywidget) sends plotly's whole front-end
  bundle (``widgetbundle.js``, ~5 MB) as its ``_esm`` source: six figures made
  a 30 MB page that took > 10 s to open. :class:`LightFigureWidget` sends a
  two-line module instead that imports the bundle once, by URL, from this
  Solara server (``/static/assets/widgetbundle.js``; plotly's package_data
  folder is added to Solara's asset folders). The browser fetches and caches
  it once for all figures. Still nothing comes from a CDN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import plotly
import plotly.graph_objects as go
import solara
from plotly.graph_objs._figurewidget import FigureWidget
from solara.server import settings as _solara_settings

PLOTLY_BUNDLE = "widgetbundle.js"
_PACKAGE_DATA = str(Path(plotly.__file__).parent / "package_data")
if (Path(_PACKAGE_DATA) / PLOTLY_BUNDLE).is_file() and \
        _PACKAGE_DATA not in _solara_settings.assets.extra_locations:
    _solara_settings.assets.extra_locations.append(_PACKAGE_DATA)

#: anywidget ESM: load plotly's widget bundle from the Solara server (one shared copy).
LIGHT_ESM = f"""
const root = (globalThis.solara && globalThis.solara.rootPath) || "";
const bundle = await import(new URL(root + "/static/assets/{PLOTLY_BUNDLE}", location.origin).href);
export default bundle.default;
"""


class LightFigureWidget(FigureWidget):
    """A FigureWidget whose front-end code is fetched by URL instead of sent inline."""

    _esm = LIGHT_ESM


@dataclass(eq=False)
class FigureBox:
    """Holds a figure; equal only to itself."""

    figure: go.Figure


@solara.component
def PlotlyView(box: FigureBox):
    """Show ``box.figure`` in a plotly widget; replace its data and layout on change."""
    element = LightFigureWidget.element(_validate=False)

    def update() -> None:
        widget: FigureWidget = solara.get_widget(element)
        fig = box.figure
        widget.layout = fig.layout
        n = len(widget.data)
        widget.add_traces(fig.data)
        widget.data = widget.data[n:]

    solara.use_effect(update, [box])
    return element


def Plot(fig: go.Figure):
    """``PlotlyView`` for a figure (a new box, so the widget updates)."""
    return PlotlyView(FigureBox(fig))
