"""Shared figure style (plotly) and static export (PNG + SVG through kaleido).

Every figure herdtrap writes for people to read uses :func:`style_figure`:
the Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008, "Color Universal
Design"), fonts of at least 12 px at the default 800×450 px size, a white
background and axis titles that carry units. :func:`export_figure` writes a
figure as ``<stem>.png`` (2× resolution) and ``<stem>.svg``.

Static export runs plotly.js inside a headless Chromium driven by kaleido 1.x
(through ``choreographer``). We never download a browser: choreographer looks
for one in ``BROWSER_PATH`` and then for ``chromium``/``google-chrome`` on
``PATH``; :func:`chromium_path` sets ``BROWSER_PATH`` to Debian's
``/usr/bin/chromium`` when it exists and nothing else was chosen. MathJax is
turned off (kaleido would otherwise load it from a CDN). Without a browser,
:func:`export_figure` raises :class:`FigureExportError`, which callers turn
into a clear "PNG/SVG skipped" message.

Exporting several figures? Wrap the loop in ``with figure_exporter():`` so one
browser serves all of them (~0.3 s per image instead of ~4 s).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import plotly.graph_objects as go

from experiments.report.provenance import atomic_write_bytes

#: Okabe–Ito palette, in the order we hand it out (yellow last: weak on white).
OKABE_ITO: tuple[str, ...] = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
#: Line dashes, combined with colours so that more than 8 series stay distinct.
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot")
#: Marker symbols, the same idea for scatter plots.
SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "cross")

WIDTH, HEIGHT = 800, 450  # px: the size a figure is read at in a brief
FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
FONT_SIZE = 14  # px at WIDTH x HEIGHT; ticks and legend stay >= 12
PNG_SCALE = 2  # PNG pixels per layout pixel (crisp when printed)
SYSTEM_CHROMIUM = "/usr/bin/chromium"


class FigureExportError(RuntimeError):
    """Static export is impossible here (no Chromium, or kaleido failed)."""


#: Colours of the compared series (black is the reference's; yellow is too pale for lines).
SERIES_COLOURS: tuple[str, ...] = OKABE_ITO[1:7]


def series_style(i: int) -> dict[str, str]:
    """Colour, dash and marker symbol of the ``i``-th series.

    Series 0 is the reference (baseline): black, solid, circles. The others take
    the six Okabe–Ito colours in turn; after six, the dash and marker change, so
    every series stays distinct without relying on colour alone.
    """
    if i <= 0:
        return {"color": OKABE_ITO[0], "dash": "solid", "symbol": "circle"}
    k, n = i - 1, len(SERIES_COLOURS)
    return {
        "color": SERIES_COLOURS[k % n],
        "dash": DASHES[(k // n) % len(DASHES)],
        "symbol": SYMBOLS[(k // n) % len(SYMBOLS)],
    }


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` -> ``rgba(r,g,b,alpha)`` (for confidence bands)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def style_figure(fig: go.Figure, *, title: str | None = None, width: int = WIDTH,
                 height: int = HEIGHT, legend_below: bool = True) -> go.Figure:
    """Apply herdtrap's figure style in place and return the figure."""
    fig.update_layout(
        template="simple_white",
        width=width,
        height=height,
        font={"family": FONT_FAMILY, "size": FONT_SIZE, "color": "#222222"},
        title={"text": title, "x": 0.0, "xref": "paper", "xanchor": "left",
               "font": {"size": FONT_SIZE + 3}} if title else None,
        margin={"l": 70, "r": 20, "t": 60 if title else 30, "b": 60},
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel={"font": {"size": FONT_SIZE}},
    )
    if legend_below:
        fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.18,
                                  "xanchor": "left", "x": 0.0, "font": {"size": 12}})
    fig.update_xaxes(showgrid=True, gridcolor="#e5e5e5", tickfont={"size": 12},
                     title_font={"size": FONT_SIZE}, ticks="outside")
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", tickfont={"size": 12},
                     title_font={"size": FONT_SIZE}, ticks="outside")
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def chromium_path() -> str | None:
    """The browser kaleido will use: ``BROWSER_PATH``, else /usr/bin/chromium, else PATH.

    Sets ``BROWSER_PATH`` to Debian's Chromium when it is unset and that file exists,
    so that choreographer never looks for (or asks to download) its own copy.
    """
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    if os.path.isfile(SYSTEM_CHROMIUM) and os.access(SYSTEM_CHROMIUM, os.X_OK):
        os.environ["BROWSER_PATH"] = SYSTEM_CHROMIUM
        return SYSTEM_CHROMIUM
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def _require_browser() -> None:
    if chromium_path() is None:
        raise FigureExportError(
            "no Chromium found for kaleido (set BROWSER_PATH or `apt-get install chromium`; "
            "never `kaleido_get_chrome`)"
        )


_server_depth = 0  # nesting depth of figure_exporter() blocks


@contextlib.contextmanager
def figure_exporter() -> Iterator[None]:
    """Keep one kaleido browser open for every :func:`export_figure` inside the block.

    Blocks may nest; the browser closes when the outermost block ends.
    """
    import kaleido

    global _server_depth
    _require_browser()
    if _server_depth == 0:
        try:
            kaleido.start_sync_server(mathjax=False, silence_warnings=True)
        except Exception as exc:
            raise FigureExportError(f"kaleido could not start Chromium: {exc}") from exc
    _server_depth += 1
    try:
        yield
    finally:
        _server_depth -= 1
        if _server_depth == 0:
            kaleido.stop_sync_server(silence_warnings=True)


#: Attempts per image. kaleido 1.5 sometimes reads the JavaScript context of the blank
#: page its tab starts on rather than of its own page when the machine is busy, and
#: the render fails with "ReferenceError: kaleido_scopes is not defined" (measured here:
#: 3 of 30 renders with the two cores loaded). A fresh tab renders fine.
RENDER_ATTEMPTS = 4


def render_image(fig: go.Figure, fmt: str, *, scale: float = 1.0) -> bytes:
    """The figure as ``fmt`` ("png" or "svg") bytes, rendered by kaleido in Chromium.

    A failed render is retried in a fresh tab (a fresh browser inside
    :func:`figure_exporter`) up to :data:`RENDER_ATTEMPTS` times in all; the last
    error is raised as :class:`FigureExportError`.
    """
    import kaleido

    _require_browser()
    layout = fig.layout
    opts = {"format": fmt, "width": layout.width or WIDTH, "height": layout.height or HEIGHT,
            "scale": scale}
    spec = fig.to_dict()
    for attempt in range(RENDER_ATTEMPTS):
        try:
            if _server_depth:  # the running server was started with mathjax=False
                data = kaleido.calc_fig_sync(spec, opts=opts)
            else:
                data = kaleido.calc_fig_sync(spec, opts=opts, kopts={"mathjax": False})
            break
        except Exception as exc:  # kaleido/choreographer raise many kinds of errors
            if attempt + 1 == RENDER_ATTEMPTS:
                raise FigureExportError(
                    f"kaleido could not render the figure in {RENDER_ATTEMPTS} attempts; "
                    f"last error: {type(exc).__name__}: {str(exc)[:300]}"
                ) from exc
            if _server_depth:  # the server's tabs may all be bad: start a new browser
                with contextlib.suppress(Exception):
                    kaleido.stop_sync_server(silence_warnings=True)
                try:
                    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
                except Exception as start_exc:
                    raise FigureExportError(
                        f"kaleido could not restart Chromium: {start_exc}") from start_exc
    if isinstance(data, str):
        data = data.encode()
    return bytes(data)


def export_figure(fig: go.Figure, path_stem: str | Path,
                  formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``<path_stem>.png`` (2× pixels) and ``<path_stem>.svg``.

    Files are written atomically (a crash never leaves half an image). Returns the
    paths written. Raises :class:`FigureExportError` if no browser is available.
    """
    stem = Path(path_stem)
    written: list[Path] = []
    for fmt in formats:
        data = render_image(fig, fmt, scale=PNG_SCALE if fmt == "png" else 1.0)
        path = stem.with_name(f"{stem.name}.{fmt}")
        atomic_write_bytes(path, data)
        written.append(path)
    return written


def save_figure(fig: go.Figure, stem: str | Path,
                formats: Sequence[str] = ("html", "png")) -> list[Path]:
    """Write a plotly figure as ``stem.<fmt>``; returns the files written.

    HTML embeds plotly.js (opens offline). PNG/SVG go through :func:`export_figure`
    (kaleido driving the system Chromium); if no browser is available, static formats
    are skipped with a note rather than failing the command.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "html" in formats:
        path = stem.with_name(f"{stem.name}.html")
        tmp = path.with_name(f".{path.name}.tmp")
        fig.write_html(tmp, include_plotlyjs=True, full_html=True)
        os.replace(tmp, path)
        written.append(path)
    static = tuple(f for f in formats if f != "html")
    if static:
        try:
            written += export_figure(fig, stem, formats=static)
        except FigureExportError as exc:
            print(f"note: {stem.name}: PNG/SVG skipped ({exc})")
    return written


__all__ = [
    "DASHES",
    "OKABE_ITO",
    "SERIES_COLOURS",
    "FigureExportError",
    "chromium_path",
    "export_figure",
    "figure_exporter",
    "render_image",
    "rgba",
    "save_figure",
    "series_style",
    "style_figure",
]
