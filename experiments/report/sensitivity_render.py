"""The report of `herdtrap sensitivity`: the self-contained HTML page (template
templates/sensitivity.html), its plotly figures and the printed summary, from the
indices of :mod:`experiments.analysis.sensitivity_compute`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from experiments.report.html import render, significant, table

if TYPE_CHECKING:
    from experiments.analysis.sensitivity_compute import SensitivitySpec


def _figure_html(fig: Any, first: list[bool]) -> Markup:
    # plotly.js is embedded once, inline (no CDN), with the first figure
    include = first[0]
    first[0] = False
    return Markup(fig.to_html(full_html=False, include_plotlyjs=include,
                              config={"displaylogo": False, "responsive": True}))


def sobol_figure(idx: pd.DataFrame, outcome: str) -> Any:
    """Horizontal bars of S1 and ST per parameter (largest ST on top) with CI error bars."""
    import plotly.graph_objects as go

    from experiments.report.figures import series_style, style_figure

    d = idx[idx["outcome"] == outcome].sort_values("ST", ascending=True)
    fig = go.Figure()
    for k, (col, label) in enumerate((("ST", "total order ST"), ("S1", "first order S1"))):
        fig.add_bar(y=d["parameter"], x=d[col], name=label, orientation="h",
                    marker_color=series_style(k + 1)["color"],
                    error_x={"type": "data", "array": d[f"{col}_conf"], "visible": True})
    fig.update_layout(barmode="group", legend={"traceorder": "reversed"})
    fig.update_xaxes(title_text="Sobol index (share of output variance)")
    fig.update_yaxes(automargin=True)
    fig = style_figure(fig, title=f"{outcome}: Sobol indices (error bars: bootstrap CI)",
                       height=max(450, 200 + 40 * len(d)))
    fig.update_layout(margin={"l": 20})
    return fig


def s2_figure(s2: pd.DataFrame, outcome: str, names: Sequence[str]) -> Any:
    import plotly.graph_objects as go

    from experiments.report.figures import style_figure

    d = s2[s2["outcome"] == outcome]
    m = pd.DataFrame(np.nan, index=list(names), columns=list(names))
    for r in d.itertuples():
        m.loc[r.parameter_1, r.parameter_2] = r.S2
        m.loc[r.parameter_2, r.parameter_1] = r.S2
    fig = go.Figure(go.Heatmap(z=m.to_numpy(), x=list(names), y=list(names), colorscale="Viridis",
                               colorbar={"title": "S2"}, hoverongaps=False))
    fig.update_xaxes(tickangle=-35)
    return style_figure(fig, title=f"{outcome}: second-order indices S2", legend_below=False,
                        height=max(450, 250 + 25 * len(names)))


def morris_figure(idx: pd.DataFrame, outcome: str) -> Any:
    import plotly.graph_objects as go

    from experiments.report.figures import series_style, style_figure

    d = idx[idx["outcome"] == outcome].sort_values("mu_star", ascending=False)
    labels = [name if i < 10 else "" for i, name in enumerate(d["parameter"])]  # top 10 named
    fig = go.Figure(go.Scatter(
        x=d["mu_star"], y=d["sigma"], mode="markers+text", text=labels, name="parameters",
        customdata=d["parameter"], textposition="top center", textfont={"size": 11},
        marker={"color": series_style(4)["color"], "size": 9},
        error_x={"type": "data", "array": d["mu_star_conf"], "visible": True, "thickness": 1},
        hovertemplate="%{customdata}<br>μ* = %{x:.4g}<br>σ = %{y:.4g}<extra></extra>",
    ))
    top = float(max(d["mu_star"].max(), d["sigma"].max(), 0.0)) or 1.0
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="σ = μ*",
                    line={"color": "#999999", "dash": "dash"}, hoverinfo="skip")
    fig.update_xaxes(title_text="μ* (mean absolute elementary effect)")
    fig.update_yaxes(title_text="σ (sd of elementary effects)")
    return style_figure(fig, title=f"{outcome}: Morris μ*–σ (bars: CI of μ*)",
                        legend_below=False)


def _table_html(df: pd.DataFrame) -> Markup:
    return table(df, formats=significant(4), classes="numbers two-labels", na="")


def render_report(spec: SensitivitySpec, problem: Mapping[str, Any], indices: pd.DataFrame,
                  s2: pd.DataFrame | None, conv: pd.DataFrame,
                  counts: Mapping[str, int]) -> str:
    """A self-contained HTML report (plotly.js inline, no CDN)."""
    first = [True]
    prob = pd.DataFrame({"parameter": problem["names"], "unit": problem["units"],
                         "low": [b[0] for b in problem["bounds"]],
                         "high": [b[1] for b in problem["bounds"]]})
    outcomes = []
    for outcome in spec.outcomes:
        if bool(indices.loc[indices["outcome"] == outcome, "outcome_constant"].any()):
            outcomes.append({"name": outcome, "constant": True})
            continue
        if spec.method == "sobol":
            figures = [_figure_html(sobol_figure(indices, outcome), first)]
            if s2 is not None:
                figures.append(_figure_html(s2_figure(s2, outcome, problem["names"]), first))
            cols = ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
            table = indices[indices["outcome"] == outcome].sort_values("ST", ascending=False)
        else:
            figures = [_figure_html(morris_figure(indices, outcome), first)]
            cols = ["parameter", "mu_star", "mu_star_conf", "sigma", "mu", "mu_star_rel"]
            table = indices[indices["outcome"] == outcome].sort_values("mu_star", ascending=False)
        c = conv[conv["outcome"] == outcome]
        key = "ST" if spec.method == "sobol" else "mu_star"
        wide = c.pivot(index="parameter", columns="n", values=key)
        wide.columns = [f"{key} at N={n}" for n in wide.columns]
        outcomes.append({"name": outcome, "constant": False, "figures": figures,
                         "table": _table_html(table[cols]), "key": key,
                         "convergence": _table_html(wide.reset_index())})
    return render("sensitivity.html", wide=True, spec=spec, rows=counts.get("rows", 0),
                  total=counts.get("total", 0), conf_level=f"{spec.conf_level:.0%}",
                  fixed=str(spec.fixed), parameters_table=_table_html(prob),
                  outcomes=outcomes, second_order=s2 is not None)


def summary_lines(spec: SensitivitySpec, indices: pd.DataFrame, top: int = 5) -> list[str]:
    """The most influential parameters per outcome, as text."""
    lines = []
    for outcome in spec.outcomes:
        d = indices[indices["outcome"] == outcome]
        if spec.method == "sobol":
            d = d.sort_values("ST", ascending=False).head(top)
            items = [f"{r.parameter} ST={r.ST:.3f}±{r.ST_conf:.3f} S1={r.S1:.3f}"
                     for r in d.itertuples()]
        else:
            d = d.sort_values("mu_star", ascending=False).head(top)
            items = [f"{r.parameter} μ*={r.mu_star:.4g}±{r.mu_star_conf:.2g} σ={r.sigma:.3g}"
                     for r in d.itertuples()]
        if bool(indices.loc[indices["outcome"] == outcome, "outcome_constant"].any()):
            lines.append(f"  {outcome}: constant over the whole sample (all indices 0)")
            continue
        lines.append(f"  {outcome}:")
        lines += [f"    {item}" for item in items]
    return lines
