"""Text, figure and page of the climate-futures ranking (experiments/analysis/futures.py)."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from markupsafe import Markup

from experiments.analysis.futures import FutureRanking
from experiments.report.figures import series_style
from experiments.report.html import outcome_label, render, table
from experiments.report.provenance import now_iso


def _num(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:+.3g}"


def _ci(m: float, lo: float, hi: float) -> str:
    return _num(m) if math.isnan(lo) else f"{_num(m)} [{_num(lo)}, {_num(hi)}]"


def ranking_display(r: FutureRanking) -> pd.DataFrame:
    t = r.table
    return pd.DataFrame({
        "future": t["future"], "design": t["design"], "rank": t["rank"],
        f"gain vs {r.baseline} [95% CI]": [_ci(a, b, c) for a, b, c in
                                            zip(t["gain"], t["gain_low"], t["gain_high"], strict=True)],
        "regret [95% CI, paired with the best]": [
            _ci(a, b, c) for a, b, c in zip(t["regret"], t["regret_low"], t["regret_high"], strict=True)],
        "extra cost (kMNT/household/year)": t["extra_cost"].map(lambda x: f"{x:,.1f}"),
    })


def robustness_display(r: FutureRanking) -> pd.DataFrame:
    t = r.robustness
    out = pd.DataFrame({"robust rank": t["robust_rank"], "design": t["design"],
                        "largest regret [95% CI]": [
                            _ci(a, b, c) for a, b, c in zip(t["max_regret"], t["max_regret_low"],
                                                            t["max_regret_high"], strict=True)],
                        "in future": t["worst_future"]})
    for f in r.futures:
        if f"rank_{f}" in t:
            out[f"rank: {f}"] = t[f"rank_{f}"].astype("Int64")
    return out


def verdict(r: FutureRanking) -> str:
    rob = r.robustness
    best = rob.iloc[0]
    firsts = r.table[r.table["best"]].set_index("future")["design"]
    same = firsts.nunique() == 1
    parts = [f"Gain = {outcome_label(r.outcome)} in {r.baseline} minus in the design (higher is "
             "better)."]
    if best["max_regret"] <= 0:
        parts.append(f"{best['design']} has the largest gain in every future (regret 0).")
    else:
        parts.append(f"{best['design']} has the smallest largest regret "
                     f"({_ci(best['max_regret'], best['max_regret_low'], best['max_regret_high'])}"
                     f", in future {best['worst_future']}).")
    if same:
        parts.append(f"The ranking's top design is the same in every future: {firsts.iloc[0]}.")
    else:
        parts.append("The top design changes with the future: "
                     + "; ".join(f"{f}: {d}" for f, d in firsts.items()) + ".")
    return " ".join(parts)


def text_report(r: FutureRanking) -> str:
    lines = [f"Climate futures ({', '.join(r.futures)}), designs against {r.baseline}:", "",
             ranking_display(r).to_string(index=False), "", "Robustness (minimax regret):",
             robustness_display(r).to_string(index=False), "", verdict(r)]
    return "\n".join(lines)


def figure(r: FutureRanking):
    """Gain of each design in each future, 95% CIs."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, d in enumerate(dict.fromkeys(r.table["design"])):
        t = r.table[r.table["design"] == d]
        st = series_style(i)
        fig.add_trace(go.Scatter(
            x=t["future"], y=t["gain"], mode="markers+lines", name=d,
            line={"color": st["color"], "dash": st["dash"]},
            marker={"color": st["color"], "symbol": st["symbol"], "size": 9},
            error_y={"type": "data", "symmetric": False,
                     "array": (t["gain_high"] - t["gain"]).tolist(),
                     "arrayminus": (t["gain"] - t["gain_low"]).tolist()}))
    from experiments.report.figures import style_figure

    style_figure(fig, title=f"Gain over {r.baseline} in each climate future (95% CI)",
                 height=480)
    fig.update_yaxes(title_text=f"gain: {outcome_label(r.outcome)}", zeroline=True)
    fig.update_xaxes(title_text="climate future")
    return fig


def html_report(r: FutureRanking, manifest: dict[str, Any]) -> str:
    fig = Markup(figure(r).to_html(full_html=False, include_plotlyjs=True,
                                   default_width="100%"))
    futures = [[name, f.get("description", ""), json.dumps(f.get("params", {}))]
               for name, f in r.futures.items()]
    git = manifest.get("git", {})
    return render("futures.html", wide=True, baseline=r.baseline, outcome=outcome_label(r.outcome),
                  written=now_iso(), verdict=verdict(r), figure=fig,
                  futures_table=Markup(table(futures, ["future", "description", "parameters"])),
                  ranking_table=Markup(table(ranking_display(r))),
                  robustness_table=Markup(table(robustness_display(r))),
                  command=str(manifest.get("command")), commit=str(git.get("commit")))
