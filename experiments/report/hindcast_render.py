"""The report of `herdtrap hindcast`: the figure (census vs simulated stock, yearly log
error) and the printed summary, from a :class:`experiments.analysis.hindcast_compute.HindcastResult`.
"""

from __future__ import annotations

import numpy as np

from experiments.analysis.hindcast_compute import CLOSE_TOLERANCE, HindcastResult


def figure(result: HindcastResult):
    """Census vs simulated total stock (replicate range) and the yearly log error."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    y = result.years
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32],
                        vertical_spacing=0.06,
                        subplot_titles=("total stock (million head)",
                                        "log(simulated / census)"))
    x = list(y.index)
    fig.add_trace(go.Scatter(x=x + x[::-1],
                             y=list(y["sim_max"] / 1e6) + list(y["sim_min"][::-1] / 1e6),
                             fill="toself", fillcolor="rgba(31,119,180,0.2)",
                             line={"width": 0}, name=f"simulated range ({result.replicates} runs)",
                             hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=y["sim_mean"] / 1e6, name="simulated (mean)",
                             line={"color": "#1f77b4"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=y["census"] / 1e6, name="NSO census",
                             mode="lines+markers", line={"color": "black"}), row=1, col=1)
    fig.add_trace(go.Bar(x=x, y=y["log_error"], name="log error", marker_color="#7f7f7f",
                         showlegend=False), row=2, col=1)
    for v in (np.log(1 + CLOSE_TOLERANCE), np.log(1 - CLOSE_TOLERANCE)):
        fig.add_hline(y=v, line_dash="dot", line_color="red", row=2, col=1)
    s = result.summary
    fig.update_layout(
        title=(f"Hindcast {result.aimag} {result.start}-{result.end}: RMSE(log) "
               f"{s['rmse_log']:.3f}, corr(growth) {s['corr_growth']:.2f}"),
        width=900, height=600, template="plotly_white",
        legend={"orientation": "h", "y": 1.16, "x": 0}, margin={"t": 120})
    return fig


def format_summary(result: HindcastResult) -> str:
    s = result.summary
    lines = [
        f"hindcast {result.aimag} {result.start}-{result.end}: {result.replicates} replicate(s) x "
        f"{result.households} households, census {result.start} as initial condition",
        f"  NSO tables                {result.data}",
        f"  years compared            {s['years_compared']}",
        f"  RMSE of log error         {s['rmse_log']:.3f}   (mean {s['mean_log_error']:+.3f}, "
        f"max |.| {s['max_abs_log_error']:.3f} in {s['max_abs_log_error_year']})",
        f"  years within ±{100 * s['tolerance']:.0f}%          "
        f"{100 * s['share_within_tolerance']:.0f}%",
        f"  corr of annual growth     {s['corr_growth']:.2f}",
        f"  RMSE of log error (SFU)   {s['rmse_log_sfu']:.3f}   "
        f"(mean {s['mean_log_error_sfu']:+.3f}; stock in sheep units)",
    ]
    for c in s["collapses"]:
        lines.append(f"  collapse {c['years']}: census {100 * c['census_change']:+.0f}%, "
                     f"simulated trough {100 * c['sim_trough_change']:+.0f}% "
                     f"({'reproduced' if c['reproduced'] else 'NOT reproduced'})")
    return "\n".join(lines)
