"""Tables, text and figure of "who gains, who loses" (experiments/analysis/distribution.py)
for `herdtrap compare` and `herdtrap brief`."""

from __future__ import annotations

import math

import pandas as pd

from experiments.analysis.distribution import OUTCOMES, WORSE_OFF, Distribution
from experiments.report.figures import series_style

#: Outcomes shown in the tables (column, header).
SHOWN = (("poverty_years", "poverty years per household"),
         ("consumption_pc_mean", "consumption per person (kMNT/year)"),
         ("herd_sfu_final", "final herd (SFU)"),
         ("received_kmnt", "cash received (kMNT)"),
         ("worse_off", "worse off"),
         ("smaller_herd", "smaller final herd"))
_UNIT = {c: u for c, _, u in OUTCOMES}


def _num(x: float, unit: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if unit == "share":
        return f"{x:.1%}"
    if abs(x) >= 100:
        return f"{x:+,.0f}"
    return f"{x:+.2f}" if abs(x) < 10 else f"{x:+.1f}"


def cell(row: pd.Series, col: str) -> str:
    """'effect [low, high]' of one outcome in one group."""
    unit = _UNIT[col]
    est, lo, hi = row[col], row[f"{col}_low"], row[f"{col}_high"]
    if unit == "share":
        return f"{_num(est, unit)} [{_num(lo, unit)}, {_num(hi, unit)}]".replace("+", "")
    return f"{_num(est, unit)} [{_num(lo, unit)}, {_num(hi, unit)}]"


def display(dist: Distribution, scenario: str, by: str) -> pd.DataFrame:
    """One table: a row per group of ``by`` (with 'all households' first)."""
    rows = pd.concat([dist.of(scenario, "overall"), dist.of(scenario, by)], ignore_index=True)
    out = pd.DataFrame({"group": rows["group"],
                        "share of households": rows["households_share"].map("{:.1%}".format)})
    for col, header in SHOWN:
        out[header] = [cell(r, col) for _, r in rows.iterrows()]
    return out


def headline(dist: Distribution, scenario: str) -> str:
    """One sentence on who gains and who loses."""
    q = dist.of(scenario, "quintile")
    q = q[q["group"].str.startswith("Q")]
    overall = dist.of(scenario, "overall").iloc[0]
    ben = dist.of(scenario, "beneficiary").set_index("group")
    parts = []
    if len(q):
        best = q.loc[q["poverty_years"].idxmin()]
        parts.append(f"poverty years change most in {best['group']} "
                     f"({cell(best, 'poverty_years')} per household, against "
                     f"{cell(overall, 'poverty_years')} over all households)")
    if "beneficiaries" in ben.index:
        b = ben.loc["beneficiaries"]
        parts.append(f"{b['households_share']:.0%} of households are paid more than in the "
                     f"baseline (consumption per person {cell(b, 'consumption_pc_mean')} kMNT "
                     "a year)")
    parts.append(f"{overall['worse_off']:.1%} of households end with lower consumption than "
                 f"in the baseline (by more than {WORSE_OFF:.0%})")
    return f"{scenario}: " + "; ".join(parts) + "."


def text_section(dist: Distribution) -> str:
    """The distribution section of compare's summary.txt."""
    if dist.table.empty:
        return ""
    lines = [f"Who gains (household outcomes paired with {dist.baseline}; compare/"
             "distribution.csv):"]
    lines += [f"  {headline(dist, s)}" for s in dist.scenarios]
    return "\n".join(lines)


def figure(dist: Distribution):
    """Effect on poverty years and on consumption by starting-herd quintile, with 95% CIs."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "poverty years per household", "consumption per person (kMNT/year)"))
    for i, s in enumerate(dist.scenarios):
        q = dist.of(s, "quintile")
        style = series_style(i + 1)  # series 0 (black) is the baseline's
        for col, c in ((1, "poverty_years"), (2, "consumption_pc_mean")):
            fig.add_trace(go.Scatter(
                x=[_short(g) for g in q["group"]], y=q[c], mode="markers+lines", name=s, legendgroup=s,
                showlegend=col == 1,
                line={"color": style["color"], "dash": style["dash"]},
                marker={"color": style["color"], "symbol": style["symbol"], "size": 8},
                error_y={"type": "data", "symmetric": False,
                         "array": (q[f"{c}_high"] - q[c]).tolist(),
                         "arrayminus": (q[c] - q[f"{c}_low"]).tolist()}), row=1, col=col)
    fig.add_hline(y=0, line_color="grey", line_width=1)
    fig.update_xaxes(title_text="starting herd per person (quintile)")
    fig.update_layout(title=f"Who gains: effect vs. {dist.baseline} (95% CI)",
                      template="plotly_white", height=460)
    return fig


def _short(group: str) -> str:
    """Axis label of a quintile group: 'Q1'...'Q5', 'new' (founded during the run)."""
    return group.split(" ")[0] if group.startswith("Q") else "new"
