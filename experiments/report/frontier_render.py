"""Text, figure and HTML page of `herdtrap frontier` (experiments/analysis/frontier.py)."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from markupsafe import Markup

from experiments.analysis.frontier_compute import FrontierSpec
from experiments.report.figures import series_style, style_figure
from experiments.report.html import is_share, outcome_label, render, table
from experiments.report.provenance import now_iso


def fmt_gain(outcome: str, x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if is_share(outcome):
        return f"{100 * x:+.2f} pp"
    return f"{x:+.3g}"


def fmt_gain_ci(outcome: str, m: float, lo: float, hi: float) -> str:
    return f"{fmt_gain(outcome, m)} [{fmt_gain(outcome, lo)}, {fmt_gain(outcome, hi)}]"


def fmt_cost(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:,.1f}"


def points_display(spec: FrontierSpec, points: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"design": points["design"], "lever value": points["value"].map("{:g}".format),
                        "extra cost (kMNT/household/year) [95% CI]": [
                            f"{fmt_cost(r.extra_cost)} [{fmt_cost(r.extra_cost_low)}, "
                            f"{fmt_cost(r.extra_cost_high)}]" for r in points.itertuples()]})
    for o in spec.outcomes:
        out[f"gain: {outcome_label(o)}"] = [
            fmt_gain_ci(o, r[f"gain_{o}"], r[f"gain_{o}_low"], r[f"gain_{o}_high"])
            for _, r in points.iterrows()]
    out["on frontier"] = points["on_frontier"].map({True: "yes", False: ""})
    if "future" in points:
        out.insert(0, "future", points["future"].to_numpy())
    return out


def budget_display(spec: FrontierSpec, eq: pd.DataFrame) -> pd.DataFrame:
    o = spec.outcomes[0]
    if "future" in eq:
        parts = [budget_display(spec, g.drop(columns="future")).assign(future=f)
                 for f, g in eq.groupby("future", sort=False)]
        out = pd.concat(parts, ignore_index=True)
        return out[["future", *[c for c in out.columns if c != "future"]]]
    rows = []
    for r in eq.to_dict("records"):
        if r.get("rank") is None or (isinstance(r.get("rank"), float) and math.isnan(r["rank"])):
            rows.append([f"{r['budget']:g}", r["design"], "", "outside the swept costs", ""])
            continue
        margin = ""
        if not math.isnan(r.get("margin_over_next", float("nan"))):
            margin = fmt_gain_ci(o, r["margin_over_next"], r["margin_low"], r["margin_high"])
        rows.append([f"{r['budget']:g}", r["design"], str(int(r["rank"])),
                     fmt_gain_ci(o, r[f"gain_{o}"], r[f"gain_{o}_low"], r[f"gain_{o}_high"]),
                     margin])
    return pd.DataFrame(rows, columns=["budget (kMNT/household/year)", "design", "rank",
                                       f"gain: {outcome_label(o)} [95% CI]",
                                       "margin over the next [95% CI, paired]"])


def verdicts(spec: FrontierSpec, eq: pd.DataFrame) -> list[str]:
    """One sentence per budget (and future): which design does most, and whether it is
    clear."""
    o = spec.outcomes[0]
    if "future" in eq:
        return [f"Future {f}: {v}" for f, g in eq.groupby("future", sort=False)
                for v in verdicts(spec, g.drop(columns="future"))]
    out = []
    for budget in spec.budgets:
        b = eq[(eq["budget"] == budget) & eq["best"].astype(bool)]
        if b.empty:
            out.append(f"At {budget:g} kMNT per household per year no design's swept costs "
                       "reach the budget.")
            continue
        r = b.iloc[0]
        gain = fmt_gain_ci(o, r[f"gain_{o}"], r[f"gain_{o}_low"], r[f"gain_{o}_high"])
        if math.isnan(r["margin_over_next"]):
            out.append(f"At {budget:g} kMNT per household per year only {r['design']} "
                       f"reaches the budget: {outcome_label(o)} {gain}.")
            continue
        others = eq[(eq["budget"] == budget) & (eq["rank"] == 2)]
        nxt = others.iloc[0]["design"] if len(others) else "the next"
        margin = fmt_gain_ci(o, r["margin_over_next"], r["margin_low"], r["margin_high"])
        head = (f"At {budget:g} kMNT per household per year {r['design']} has the largest "
                f"mean gain ({outcome_label(o)} {gain}); ")
        if r["margin_low"] > 0:
            out.append(head + f"it beats {nxt} by {margin} (paired).")
        else:
            out.append(head + f"{nxt} is not distinguishable from it (margin {margin}).")
    return out


def robustness_display(robust: pd.DataFrame, spec: FrontierSpec) -> pd.DataFrame:
    o = spec.outcomes[0]
    return pd.DataFrame({
        "budget (kMNT/household/year)": robust["budget"].map("{:g}".format),
        "robust rank": robust["robust_rank"], "design": robust["design"],
        "largest regret [95% CI]": [fmt_gain_ci(o, m, lo, hi) for m, lo, hi in zip(
            robust["max_regret"], robust["max_regret_low"], robust["max_regret_high"],
            strict=True)],
        "in future": robust["worst_future"],
        "futures reached": robust["futures"]})


def outcome_lines(spec: FrontierSpec, long: pd.DataFrame) -> list[str]:
    """Per budget (and future), per outcome: the best design and its paired margin over
    the next (the equal-budget table of every outcome)."""
    lines = []
    keys = ["future", "budget"] if "future" in long else ["budget"]
    for key, g in long.groupby(keys, sort=False):
        head = (f"future {key[0]}, {key[1]:g}" if len(keys) == 2 else f"{key[0]:g}")
        lines.append(f"At {head} kMNT per household per year:")
        for o, h in g.groupby("outcome", sort=False):
            best = h[h["best"].astype(bool)]
            if best.empty:
                lines.append(f"  {outcome_label(o)}: no design reaches the budget")
                continue
            r = best.iloc[0]
            nxt = h[h["rank"] == 2]
            margin = ("" if nxt.empty else
                      f"; then {nxt.iloc[0]['design']}, margin "
                      f"{fmt_gain_ci(o, r['margin_over_next'], r['margin_low'], r['margin_high'])}")
            lines.append(f"  {outcome_label(o)}: {r['design']} "
                         f"{fmt_gain_ci(o, r['gain'], r['gain_low'], r['gain_high'])}{margin}")
    return lines


def text_report(spec: FrontierSpec, points: pd.DataFrame, eq: pd.DataFrame,
                baseline: str, robust: pd.DataFrame | None = None,
                long: pd.DataFrame | None = None) -> str:
    lines = ([spec.description, ""] if spec.description else []) + [
        f"Frontier {spec.name}: {len(points)} points of {len(spec.designs)} designs against "
             f"{baseline}, {spec.replicates} paired replicates. Gain = improvement over "
             f"{baseline} (positive = better); cost = extra fiscal cost per household per "
             "year (kMNT).", ""]
    lines += [points_display(spec, points).to_string(index=False), ""]
    if spec.budgets:
        lines += ["Equal budgets:", budget_display(spec, eq).to_string(index=False), ""]
        lines += verdicts(spec, eq)
    if long is not None and not long.empty:
        lines += ["", "Best design by outcome at equal budgets (paired margin over the next; "
                  "equal_budget_by_outcome.csv):", *outcome_lines(spec, long)]
    if robust is not None and not robust.empty:
        lines += ["", "Across futures at equal budgets (regret: how far a design falls short "
                  "of the best in a future; robust = smallest largest regret):",
                  robustness_display(robust, spec).to_string(index=False)]
    return "\n".join(lines)


def figure(spec: FrontierSpec, points: pd.DataFrame, outcome: str | None = None,
           future: str | None = None):
    """Gain against extra cost, one line per design, 95% CIs both ways; the frontier
    points circled; the spec's budgets as vertical lines."""
    import plotly.graph_objects as go

    o = outcome or spec.outcomes[0]
    scale = 100.0 if is_share(o) else 1.0
    fig = go.Figure()
    for i, d in enumerate(spec.designs):
        p = points[points["design"] == d.name].sort_values("extra_cost")
        st = series_style(i + 1)
        fig.add_trace(go.Scatter(
            x=p["extra_cost"], y=scale * p[f"gain_{o}"], mode="lines+markers", name=d.name,
            line={"color": st["color"], "dash": st["dash"]},
            marker={"color": st["color"], "symbol": st["symbol"], "size": 9},
            text=[f"{d.name} {v:g}" for v in p["value"]],
            error_x={"type": "data", "symmetric": False,
                     "array": (p["extra_cost_high"] - p["extra_cost"]).tolist(),
                     "arrayminus": (p["extra_cost"] - p["extra_cost_low"]).tolist(),
                     "thickness": 1},
            error_y={"type": "data", "symmetric": False,
                     "array": (scale * (p[f"gain_{o}_high"] - p[f"gain_{o}"])).tolist(),
                     "arrayminus": (scale * (p[f"gain_{o}"] - p[f"gain_{o}_low"])).tolist(),
                     "thickness": 1}))
    f = points[points["on_frontier"]].sort_values("extra_cost")
    fig.add_trace(go.Scatter(x=f["extra_cost"], y=scale * f[f"gain_{o}"], mode="markers",
                             name="on the frontier",
                             marker={"size": 18, "symbol": "circle-open", "color": "#000000",
                                     "line": {"width": 2}}))
    for b in spec.budgets:  # the equal-budget table's budgets
        fig.add_shape(type="line", x0=b, x1=b, xref="x", y0=0, y1=1, yref="paper",
                      line={"color": "#888888", "dash": "dot", "width": 1.5})
    where = f", future {future}" if future else ""
    style_figure(fig, title=f"Cost and {outcome_label(o)}: designs at equal budget{where} (95% CI)",
                 height=520)
    fig.update_xaxes(title_text="extra fiscal cost (kMNT per household per year)", zeroline=True)
    unit = " (points)" if is_share(o) else ""
    fig.update_yaxes(title_text=f"gain: {outcome_label(o)}{unit}", zeroline=True)
    return fig


def html_report(spec: FrontierSpec, points: pd.DataFrame, eq: pd.DataFrame, baseline: str,
                manifest: dict[str, Any], figs: list, robust: pd.DataFrame | None = None,
                long: pd.DataFrame | None = None) -> str:
    fig_html = [Markup(f.to_html(full_html=False, include_plotlyjs=(i == 0),
                                 default_width="100%")) for i, f in enumerate(figs)]
    git = manifest.get("git", {})
    return render(
        "frontier.html", wide=True, name=spec.name, baseline=baseline,
        description=spec.description,
        replicates=spec.replicates, n_points=len(points), n_designs=len(spec.designs),
        written=now_iso(), figures=fig_html,
        points_table=Markup(table(points_display(spec, points))),
        budget_table=Markup(table(budget_display(spec, eq))) if spec.budgets else None,
        verdicts=verdicts(spec, eq) if spec.budgets else [],
        outcome_lines=outcome_lines(spec, long) if long is not None and not long.empty else [],
        robustness_table=Markup(table(robustness_display(robust, spec)))
        if robust is not None and not robust.empty else None,
        spec=json.dumps(spec.to_dict(), indent=1), command=str(manifest.get("command")),
        commit=str(git.get("commit")), dirty=git.get("dirty"))
