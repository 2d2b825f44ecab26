"""HTML tables and number formats shared by herdtrap's reports (`herdtrap compare`,
`brief` and `sensitivity`).

:func:`table` turns a DataFrame or a list of rows into one HTML ``<table>`` (every cell
escaped, unless it is already marked safe, e.g. ``markupsafe.Markup``); the ``fmt_*``
functions are the number formats the reports print. One stylesheet
(``templates/report.css``) styles every report, and :func:`render` fills the page
templates (``templates/*.html``, Jinja2).
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from experiments.outcomes import BY_NAME

Formatter = Callable[[Any], str]

# --------------------------------------------------------------------------- numbers


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(x))


def is_share(name: str) -> bool:
    """Whether an outcome is a share of households (shown in % and percentage points);
    ``name`` may carry a horizon, "poverty_headcount@10"."""
    o = BY_NAME.get(name.partition("@")[0])
    return o is not None and o.unit == "share"


def outcome_label(name: str) -> str:
    """An outcome's label from the catalogue (``name`` if it has none); with a horizon,
    "poverty_headcount@10" -> 'poverty headcount (...), year 10'."""
    base, _, year = name.partition("@")
    o = BY_NAME.get(base)
    text = o.label if o is not None else base
    return f"{text}, year {year}" if year else text


def fmt_value(name: str, x: float) -> str:
    """A level of outcome ``name``: '29.8%' for shares, '1,234' large, 3 significant digits."""
    if _missing(x):
        return "n/a"
    if math.isinf(x):
        return "inf"
    if is_share(name):
        return f"{x:.1%}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def fmt_diff(name: str, x: float) -> str:
    """A signed difference of outcome ``name``: '+1.25 pp' for shares."""
    if _missing(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if is_share(name):
        return f"{100 * x:+.2f} pp"
    if abs(x) >= 1000:
        return f"{x:+,.0f}"
    return f"{x:+.3g}"


def fmt_money(x: float) -> str:
    """Thousands separators, no decimals; 'n/a' and 'inf' as such."""
    if _missing(x):
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:,.0f}"


def fmt_interval(name: str, mean: float, low: float, high: float, diff: bool) -> str:
    """'mean [low, high]' in the format of a level or of a difference of ``name``."""
    f = fmt_diff if diff else fmt_value
    return f"{f(name, mean)} [{f(name, low)}, {f(name, high)}]"


def fmt_money_interval(mean: float, low: float, high: float) -> str:
    """'1,234 [567, 2,345]'."""
    return f"{fmt_money(mean)} [{fmt_money(low)}, {fmt_money(high)}]"


def fmt_mnt(x: float) -> str:
    """MNT with thousands separators, no decimals: 1234567.8 -> '1,234,568'."""
    if not math.isfinite(x):
        return "n/a"
    text = f"{x:,.0f}"
    return "0" if text == "-0" else text


def fmt_num(x: float, kind: str) -> str:
    """One decimal (MNT, ``kind`` "cost": none, with thousands separators); never '-0.0'."""
    if not math.isfinite(x):
        return "n/a"
    text = fmt_mnt(x) if kind == "cost" else f"{x:.1f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def fmt_ci(low: float, high: float, kind: str, *, magnitude: bool = False,
           confidence: float = 0.95) -> str:
    """'95% CI 2.6–3.6' (magnitudes of a change) or '95% CI −0.4 to 0.3' (signed)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "no CI: a single replicate"
    lo, hi = (min(abs(low), abs(high)), max(abs(low), abs(high))) if magnitude else (low, high)

    def f(v: float) -> str:
        return fmt_num(v, kind).replace("-", "−")

    sep = "–" if lo >= 0 and hi >= 0 else " to "
    return f"{int(confidence * 100)}% CI {f(lo)}{sep}{f(hi)}"


def significant(digits: int = 4, *, thousands: bool = False) -> Formatter:
    """A float format with ``digits`` significant digits ('{:,.4g}' with ``thousands``)."""
    spec = f"{',' if thousands else ''}.{digits}g"
    return lambda v: format(v, spec)


# --------------------------------------------------------------------------- tables


def _cell(value: Any, fmt: Formatter | None, na: str) -> str:
    if hasattr(value, "__html__"):  # already HTML (markupsafe.Markup)
        return value.__html__()
    if _missing(value):
        return html.escape(na)
    if fmt is not None:
        return html.escape(fmt(value))
    return html.escape(str(value))


def table(data: pd.DataFrame | Sequence[Sequence[Any] | Mapping[str, Any]],
          columns: Sequence[str] | None = None,
          formats: Mapping[str, Formatter] | Formatter | None = None,
          classes: str | None = None, *, na: str = "n/a",
          row_headers: bool = False) -> Markup:
    """One HTML table.

    ``data``: a DataFrame (its index is not shown) or a list of rows (sequences, or
    mappings keyed by column). ``columns``: the columns shown, in order, and the header
    row (a DataFrame's own columns by default; rows without ``columns`` get no header).
    ``formats``: a formatter per column, or one formatter for every float cell (as
    pandas' ``float_format``). Missing values (None, NaN) print as ``na``.
    ``row_headers``: the first cell of each row is a ``<th>`` (key-value tables).
    """
    if isinstance(data, pd.DataFrame):
        cols = list(data.columns) if columns is None else list(columns)
        rows: list[list[Any]] = data[cols].astype(object).values.tolist() if cols else []
        header: list[str] | None = [str(c) for c in cols]
    else:
        header = None if columns is None else [str(c) for c in columns]
        rows = [[r.get(c) for c in columns] if isinstance(r, Mapping) else list(r)  # type: ignore[union-attr]
                for r in data]
        cols = list(columns) if columns is not None else []

    def formatter(j: int, value: Any) -> Formatter | None:
        if callable(formats):
            return formats if isinstance(value, float | np.floating) else None
        if formats and j < len(cols):
            return formats.get(cols[j])
        return None

    cls = f' class="{html.escape(classes)}"' if classes else ""
    out = [f"<table{cls}>"]
    if header is not None:
        out.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header)
                   + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for j, value in enumerate(row):
            tag = "th" if row_headers and j == 0 else "td"
            cells.append(f"<{tag}>{_cell(value, formatter(j, value), na)}</{tag}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return Markup("".join(out))


def kv_table(rows: Sequence[tuple[str, Any]], classes: str | None = None) -> Markup:
    """A two-column key-value table (keys as row headers, no header row)."""
    return table([list(r) for r in rows], classes=classes, row_headers=True)



# --------------------------------------------------------------------------- pages


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("experiments.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render(template: str, **context: Any) -> str:
    """A page from ``templates/<template>`` (Jinja2, autoescaped: text is escaped, HTML
    fragments must come as :class:`markupsafe.Markup`, as :func:`table` returns them)."""
    return _environment().get_template(template).render(**context)
