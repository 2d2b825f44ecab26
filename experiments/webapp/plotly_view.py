"""Plotly figures in Solara: one light widget per plot, redrawn with ``Plotly.react``.

Why not plotly's ``FigureWidget`` (behind ``solara.FigurePlotly``): on every
redraw it validates the whole figure against plotly's schema in Python,
deep-copies it, and merges the new layout into the old one - about 6 ms a
figure, a third of the Explore page's time per season - and each widget sends
plotly's whole front-end bundle (~5 MB) as its source.

:class:`PlotlyWidget` instead holds the figure as one JSON text
(``{"data": [...], "layout": {...}}``) and its front end calls
``Plotly.react`` with it, which redraws only what changed. The figure is sent
only when it differs from the one shown (traitlets compares the texts), as
one message. A text rather than a dict, because Solara (reacton) walks every
value of a dict given to an element, on every render, looking for elements:
a few thousand numbers per figure and season. plotly.js itself is loaded once per page, by URL, from this
Solara server (``/static/assets/plotly.min.js``, from the plotly package's
package_data folder, which is added to Solara's asset folders): nothing
comes from a CDN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import plotly
import plotly.graph_objects as go
import traitlets
from solara.server import settings as _solara_settings

PLOTLY_JS = "plotly.min.js"
_PACKAGE_DATA = str(Path(plotly.__file__).parent / "package_data")
if (Path(_PACKAGE_DATA) / PLOTLY_JS).is_file() and \
        _PACKAGE_DATA not in _solara_settings.assets.extra_locations:
    _solara_settings.assets.extra_locations.append(_PACKAGE_DATA)

#: Front end: load plotly.js once per page (it sets window.Plotly), then Plotly.react
#: the figure whenever it changes (at most once per animation frame).
ESM = f"""
const root = (globalThis.solara && globalThis.solara.rootPath) || "";
function loadPlotly() {{
  if (!globalThis.herdtrapPlotly) {{
    globalThis.herdtrapPlotly = window.Plotly ? Promise.resolve(window.Plotly) :
      import(new URL(root + "/static/assets/{PLOTLY_JS}", location.origin).href)
        .then(() => window.Plotly);
  }}
  return globalThis.herdtrapPlotly;
}}
export default {{
  async render({{ model, el }}) {{
    const Plotly = await loadPlotly();
    const div = document.createElement("div");
    el.appendChild(div);
    let queued = false;
    const draw = () => {{
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {{
        queued = false;
        const fig = JSON.parse(model.get("spec") || "{{}}");
        Plotly.react(div, fig.data || [], fig.layout || {{}},
                     {{displaylogo: false, ...(fig.config || {{}})}});
      }});
    }};
    draw();
    model.on("change:spec", draw);
    return () => {{ model.off("change:spec", draw); Plotly.purge(div); }};
  }},
}};
"""


class PlotlyWidget(anywidget.AnyWidget):
    """A plotly figure as JSON text, drawn by plotly.js with ``Plotly.react``."""

    _esm = ESM
    spec = traitlets.Unicode("{}").tag(sync=True)

    @property
    def figure(self) -> dict[str, Any]:
        """The figure shown, as a dict (``{"data", "layout"}``)."""
        return json.loads(self.spec)


def _round(a: np.ndarray) -> np.ndarray:
    # 6 significant digits are more than a plot shows; they keep the messages short
    return a if a.dtype.kind != "f" else np.round(a, 6)


def to_json(obj: Any) -> Any:
    """``obj`` (figure dicts, numpy arrays and scalars, pandas objects) as plain JSON values.

    NaN and infinities become ``None`` (JSON has no NaN; plotly.js leaves a gap).
    """
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            finite = np.isfinite(obj)
            if not finite.all():
                return [to_json(v) for v in np.where(finite, _round(obj), np.nan).tolist()]
        if obj.dtype.kind in "fiub":
            return _round(obj).tolist()
        return [to_json(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    if hasattr(obj, "to_numpy") and not isinstance(obj, str):  # pandas Series / Index
        return to_json(obj.to_numpy())
    return obj


def figure_json(fig: go.Figure | Mapping[str, Any]) -> dict[str, Any]:
    """A plain ``{"data", "layout"}`` dict of a figure dict or a ``go.Figure``."""
    if isinstance(fig, go.Figure):
        fig = fig.to_plotly_json()
    return {"data": to_json(fig.get("data", [])), "layout": to_json(fig.get("layout", {}))}


def figure_text(fig: go.Figure | Mapping[str, Any]) -> str:
    """The JSON text of a figure that :class:`PlotlyWidget` shows."""
    return json.dumps(figure_json(fig), separators=(",", ":"), allow_nan=False)


def Plot(fig: go.Figure | Mapping[str, Any]):
    """The widget element showing a figure (a figure dict of :mod:`.figures`, or a go.Figure)."""
    return PlotlyWidget.element(spec=figure_text(fig))
