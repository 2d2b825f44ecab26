"""The report of `herdtrap trap`: the figures (expected next-year herd against the 45°
line, the trap share over time) and the printed lines, from the estimates of
:mod:`experiments.analysis.trap_compute`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.analysis.trap_compute import MIN_REPLICATES, TrapEstimate


def figure(est: TrapEstimate, extra: list[TrapEstimate] | None = None):
    """Top: E[h(t+1) | h(t)] with its 95% bootstrap band against the 45° line (log axes).
    Bottom: the same as expected growth, E[1 + h(t+1)] / (1 + h(t)) - 1 (level) or
    E[log growth] (log), where the crossings are easier to see."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    c = est.curve
    keep = (c.local_n >= 5) & (c.grid > 0)
    x = np.expm1(c.grid[keep])
    band = np.nanquantile(c.expected_h(est.boot_m)[:, keep], [0.025, 0.975], axis=0)
    gband = np.nanquantile(est.boot_m[:, keep], [0.025, 0.975], axis=0) - c.target
    growth_label = ("expected growth of 1 + h" if c.measure == "level"
                    else "expected log growth of 1 + h")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4],
                        vertical_spacing=0.05)
    fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[band[1], band[0][::-1]],
                             fill="toself", fillcolor="rgba(31,119,180,0.2)", line={"width": 0},
                             name="95% bootstrap band", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=c.expected_h()[keep],
                             name=f"{est.scenario}: E[h(t+1) | h(t)]",
                             line={"color": "#1f77b4", "width": 3}), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=x, name="45° line",
                             line={"color": "black", "dash": "dash"}), row=1, col=1)
    fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[gband[1], gband[0][::-1]],
                             fill="toself", fillcolor="rgba(31,119,180,0.2)", line={"width": 0},
                             showlegend=False, hoverinfo="skip"), row=2, col=1)
    fig.add_trace(go.Scatter(x=x, y=(c.m - c.target)[keep], name=growth_label,
                             line={"color": "#1f77b4", "width": 3}, showlegend=False),
                  row=2, col=1)
    for other in extra or []:
        oc = other.curve
        k2 = (oc.local_n >= 5) & (oc.grid > 0)
        fig.add_trace(go.Scatter(x=np.expm1(oc.grid[k2]), y=oc.expected_h()[k2],
                                 name=str(other.scenario), line={"width": 1.5}), row=1, col=1)
        fig.add_trace(go.Scatter(x=np.expm1(oc.grid[k2]), y=(oc.m - oc.target)[k2],
                                 name=str(other.scenario), line={"width": 1.5},
                                 showlegend=False), row=2, col=1)
    fig.add_hline(y=0, line_dash="dash", line_color="black", row=2, col=1)
    for e in est.equilibria:
        color = "red" if e["kind"] == "unstable" else "green"
        for row, yv in ((1, e["h"]), (2, 0.0)):
            fig.add_trace(go.Scatter(
                x=[e["h"]], y=[yv], mode="markers", marker={"color": color, "size": 11},
                name=f"{e['kind']} {e['h']:.1f} ({e['h_lo']:.1f}-{e['h_hi']:.1f})",
                showlegend=row == 1,
                error_x={"type": "data", "symmetric": False,
                         "array": [max(e["h_hi"] - e["h"], 0) if np.isfinite(e["h_hi"]) else 0],
                         "arrayminus": [max(e["h"] - e["h_lo"], 0)
                                        if np.isfinite(e["h_lo"]) else 0]}), row=row, col=1)
    fig.update_xaxes(type="log", row=1, col=1)
    fig.update_xaxes(type="log", title="herd this year h(t), SFU per person", row=2, col=1)
    ylab = ("E[h(t+1) | h(t)], SFU/person" if c.measure == "level"
            else "exp(E[log(1+h(t+1))]) - 1")
    fig.update_yaxes(type="log", title=ylab, row=1, col=1)
    fig.update_yaxes(title=growth_label, tickformat=".0%", row=2, col=1)
    fig.update_layout(title=est.message(), width=900, height=760, template="plotly_white",
                      legend={"x": 0.01, "y": 0.99}, title_font_size=13)
    return fig


def share_figure(shares: pd.DataFrame):
    import plotly.graph_objects as go

    fig = go.Figure()
    agg = shares.groupby(["scenario", "year"])["trap_share"].agg(["mean", "min", "max"])
    for scen, g in agg.groupby(level=0):
        g = g.droplevel(0)
        fig.add_trace(go.Scatter(x=g.index, y=g["mean"], name=str(scen), mode="lines"))
    thr = shares["threshold_sfu_per_person"].iloc[0]
    fig.update_layout(title=f"Share of households below the threshold ({thr:.1f} SFU/person; "
                            "not herding = 0)", xaxis_title="simulated year",
                      yaxis_title="trap share (mean over replicates)", yaxis_tickformat=".0%",
                      width=900, height=450, template="plotly_white")
    return fig


def replicate_warning(n_replicates: int) -> str:
    """One line when a batch has too few weather replicates for a reliable CI ("" if enough)."""
    if n_replicates >= MIN_REPLICATES:
        return ""
    return (f"{n_replicates} weather replicate{'s' if n_replicates != 1 else ''}: the "
            f"threshold's CI needs at least {MIN_REPLICATES} to be reliable (herdtrap batch "
            f"--replicates {MIN_REPLICATES})")


def share_summary(shares: pd.DataFrame) -> str:
    """The trap share of the last simulated year, per scenario (mean over replicates)."""
    last = shares[shares["year"] == shares["year"].max()].groupby("scenario")["trap_share"]
    return ("trap share in the last year (mean over replicates): "
            + ", ".join(f"{k} {v:.1%}" for k, v in last.mean().items()))
