"""The rendering of `herdtrap brief`: the plotly figures, brief.md and brief.html
(template templates/brief.html), from :mod:`experiments.report.brief_compute`.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from experiments.errors import UsageError
from experiments.report.brief_compute import (
    CONFIDENCE,
    KMNT_TO_MNT,
    OUTCOME_BY_KEY,
    PRICE_YEAR,
    Batch,
    BriefContent,
    band_table,
    citation_rows,
    key_findings,
    level_table,
    limitations,
    methods_rows,
    report_years,
    scenario_differences,
)
from experiments.report.html import fmt_mnt, fmt_num, kv_table, render, table

# --------------------------------------------------------------------------- figures


def make_figures(batch: Batch, findings: pd.DataFrame) -> dict[str, Any]:
    """The brief's plotly figures, keyed by file stem (styled; not yet exported)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from experiments.report.figures import rgba, series_style, style_figure

    order = [batch.baseline] + [s for s in batch.scenarios if s != batch.baseline]
    style = {s: series_style(i) for i, s in enumerate(order)}
    n_sc = len(order)
    extra_h = 22 * max(0, (n_sc + 2) // 3 - 2)  # legend rows below the plot
    band_alpha = 0.15 if n_sc <= 4 else 0.07  # many overlapping bands turn muddy
    figs: dict[str, Any] = {}

    # (1) poverty headcount and asset poverty over time, 95% bands
    line = batch.resolved(batch.baseline).get("params", {})
    pl = float(line.get("consumption.poverty_line", math.nan)) * float(
        line.get("consumption.cpi_2018_to_2021", math.nan)) * KMNT_TO_MNT
    apl = line.get("metrics.asset_poverty_line")
    titles = (
        f"Below the poverty line (MNT {fmt_mnt(pl)}/person/month)" if math.isfinite(pl)
        else "Below the poverty line",
        f"In asset poverty (< {apl:g} SFU/person)" if apl else "In asset poverty",
    )
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.1)
    for col, column in enumerate(("poverty_headcount", "asset_poverty"), start=1):
        bands = band_table(batch, column)
        for s in order:
            b = bands[bands["scenario"] == s]
            if b.empty:
                continue
            st = style[s]
            x = b["calendar_year"].tolist()
            fig.add_trace(go.Scatter(
                x=x + x[::-1], y=b["high"].tolist() + b["low"].tolist()[::-1], fill="toself",
                fillcolor=rgba(st["color"], band_alpha), line={"width": 0}, hoverinfo="skip",
                showlegend=False, legendgroup=s), row=1, col=col)
            fig.add_trace(go.Scatter(
                x=x, y=b["mean"], mode="lines", name=s, legendgroup=s, showlegend=col == 1,
                line={"color": st["color"], "dash": st["dash"],
                      "width": 3.5 if s == batch.baseline else 2.5}),
                row=1, col=col)
        fig.update_xaxes(title_text="Year", row=1, col=col)
        fig.update_yaxes(title_text="% of households", rangemode="tozero", row=1, col=col)
    style_figure(fig, height=450 + extra_h)
    fig.update_annotations(font_size=14)
    figs["poverty_over_time"] = fig

    # (2) difference vs baseline at the horizon, with CI bars
    horizon = batch.horizon(batch.baseline)
    f_h = findings[findings["horizon_year"] == horizon]
    panels = [("poverty_headcount", "Below poverty line"), ("asset_poverty", "In asset poverty"),
              ("herding_share", "Still herding")]
    others = [s for s in order if s != batch.baseline]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[p[1] for p in panels],
                        shared_yaxes=True, horizontal_spacing=0.04)
    for col, (key, _) in enumerate(panels, start=1):
        sub = f_h[f_h["outcome"] == key].set_index("scenario")
        ys = [s for s in others if s in sub.index]
        for s in ys:
            r = sub.loc[s]
            st = style[s]
            lo = r["difference"] - r["ci_low"] if math.isfinite(r["ci_low"]) else 0.0
            hi = r["ci_high"] - r["difference"] if math.isfinite(r["ci_high"]) else 0.0
            fig.add_trace(go.Scatter(
                x=[r["difference"]], y=[s], mode="markers", name=s, legendgroup=s,
                showlegend=False,
                marker={"color": st["color"], "size": 11, "symbol": st["symbol"]},
                error_x={"type": "data", "symmetric": False, "array": [hi], "arrayminus": [lo],
                         "color": st["color"], "thickness": 2, "width": 6}),
                row=1, col=col)
        fig.add_vline(x=0, line={"color": "#555555", "width": 1, "dash": "dot"}, row=1, col=col)
        fig.update_xaxes(title_text="percentage points", row=1, col=col)
    fig.update_yaxes(autorange="reversed")
    style_figure(fig, height=max(450, 140 + 40 * len(others)), legend_below=False)
    fig.update_layout(
        margin={"l": 20 + 8 * max((len(s) for s in others), default=10), "r": 20, "t": 90,
                "b": 60},
        title={"text": f"Difference from “{batch.baseline}” after {horizon} years "
                       f"(mean, {int(CONFIDENCE * 100)}% CI)", "x": 0, "xref": "paper",
               "xanchor": "left",
               "font": {"size": 16}})
    fig.update_annotations(font_size=14)
    figs["difference_at_horizon"] = fig

    # (3) extra fiscal cost vs reduction in poverty headcount, at the horizon
    pov = f_h[f_h["outcome"] == "poverty_headcount"].set_index("scenario")
    cost = f_h[f_h["outcome"] == "fiscal_cost"].set_index("scenario")
    fig = go.Figure()
    labels = len(others) <= 4  # more labels would overlap: the legend names them
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text" if labels else "markers",
                             name=batch.baseline,
                             text=[batch.baseline], textposition="top right",
                             textfont={"size": 12, "color": "#222222"},
                             marker={"color": "#000000", "size": 11}))
    xs = [0.0] + [float(v) for v in cost["difference"]] + [
        float(v) for v in cost["ci_high"] if math.isfinite(v)]
    x_mid = (min(xs) + max(xs)) / 2
    for s in others:
        if s not in pov.index or s not in cost.index:
            continue
        p, c, st = pov.loc[s], cost.loc[s], style[s]

        def err(r: pd.Series, sign: float, colour: str = st["color"]) -> dict[str, Any]:
            if not math.isfinite(r["ci_low"]):
                return {"visible": False}
            lo, hi = sorted((sign * (r["ci_low"] - r["difference"]),
                             sign * (r["ci_high"] - r["difference"])))
            return {"type": "data", "symmetric": False, "array": [hi], "arrayminus": [-lo],
                    "color": colour, "thickness": 1.5, "width": 4}

        fig.add_trace(go.Scatter(
            x=[c["difference"]], y=[-p["difference"]],
            mode="markers+text" if labels else "markers", name=s,
            text=[s], textposition="top left" if c["difference"] > x_mid else "top right",
            textfont={"size": 12, "color": "#222222"},
            marker={"color": st["color"], "size": 12, "symbol": st["symbol"]},
            error_x=err(c, 1.0), error_y=err(p, -1.0)))
    style_figure(fig, title=f"Cost and poverty reduction after {horizon} years "
                            f"(mean, {int(CONFIDENCE * 100)}% CI)",
                 height=450 + extra_h)
    fig.update_xaxes(title_text=f"Extra fiscal cost (MNT per household per year, {PRICE_YEAR})",
                     tickformat=",.0f", zeroline=True)
    fig.update_yaxes(title_text="Poverty headcount reduction (points)", zeroline=True)
    fig.update_layout(showlegend=not labels)
    figs["cost_vs_poverty"] = fig
    return figs


def key_sentences(c: BriefContent) -> list[str]:
    """The findings up front. For a frontier (designs at equal budgets), the answer to its
    question: the spec's description and which design does most at each budget (every
    scenario's own findings stay in findings.csv and the tables below); otherwise the
    poverty and asset-poverty findings of every scenario."""
    if c.frontier is not None and c.frontier[0].budgets:
        from experiments.report.frontier_render import verdicts

        spec, _, eq, long = c.frontier
        head = [spec.description] if spec.description else []
        later = []
        if long is not None and not long.empty and spec.horizons:
            from experiments.report.frontier_render import outcome_lines

            last = [o for o in spec.outcomes if o.endswith(f"@{max(spec.horizons)}")]
            text = outcome_lines(spec, long[long["outcome"].isin(last)])
            # one sentence per budget: "At B ...: outcome: best ...; outcome: best ..."
            for line in text:
                if not line.startswith("  "):
                    later.append(line.rstrip(":") + ", the best design after "
                                 f"{max(spec.horizons)} years:")
                else:
                    later[-1] += " " + line.strip() + ";"
            later = [x.rstrip(";") + "." for x in later]
        return head + verdicts(spec, eq) + later + [
            f"Each of the {len(c.batch.scenarios) - 1} grid points against "
            f"{c.batch.baseline}: the tables below and findings.csv."]
    return list(key_findings(c)["sentence"])


def frontier_of(batch: Batch):
    """(spec, points, equal-budget table) when the batch is a `herdtrap frontier` folder,
    else None; computed from runs.parquet (the model is not re-run)."""
    from experiments.analysis.frontier import read_spec_of
    from experiments.analysis.frontier_compute import compute_all, outcome_table

    spec = read_spec_of(batch.path)
    if spec is None:
        return None
    try:
        points, eq, per = compute_all(spec, batch.runs.assign(status="ok"), str(batch.path),
                                      batch.timeseries)
    except UsageError:  # points without two paired replicates (e.g. --scenarios)
        return None
    return spec, points, eq, outcome_table(spec, per)


def style_frontier(frontier):
    from experiments.report import frontier_render

    spec, points = frontier[0], frontier[1]
    if "future" in points:  # the first future's frontier (the others: frontier/)
        first = points["future"].iloc[0]
        return frontier_render.figure(spec, points[points["future"] == first], future=first)
    return frontier_render.figure(spec, points)


def trigger_scorecard(batch: Batch):
    """The trigger scorecard (default bad winter and loss) of the reported scenarios' ok
    runs, or None when no policy of theirs pays on a signal."""
    from experiments.analysis.triggers import read_triggers, scorecard

    df = read_triggers(batch.path)
    if df is None:
        return None
    df = df.merge(batch.runs[["scenario", "replicate"]], on=["scenario", "replicate"])
    if df.empty:
        return None
    return scorecard(df)


def who_gains(batch: Batch):
    """The distribution of effects (experiments.analysis.distribution) of the reported
    scenarios, or None when the batch has no household outcomes."""
    from experiments.analysis.distribution import distribution, read_outcomes

    outcomes = read_outcomes(batch.path)
    if outcomes is None:
        return None
    ok = batch.runs[["scenario", "replicate"]]
    outcomes = outcomes.merge(ok, on=["scenario", "replicate"])
    dist = distribution(outcomes, batch.scenarios, batch.baseline)
    return None if dist.table.empty else dist


def style_who_gains(dist):
    from experiments.report import distribution_render
    from experiments.report.figures import style_figure

    fig = distribution_render.figure(dist)
    style_figure(fig, title=f"Who gains: effect vs. {dist.baseline} "
                            f"(mean, {int(CONFIDENCE * 100)}% CI)", height=480)
    return fig


def who_gains_rows(dist, scenario: str) -> tuple[list[str], list[list[str]]]:
    from experiments.report.distribution_render import display

    t = pd.concat([display(dist, scenario, "quintile"),
                   display(dist, scenario, "beneficiary").iloc[1:]], ignore_index=True)
    return list(t.columns), t.astype(str).values.tolist()


FIGURE_CAPTIONS = {
    "poverty_over_time": "Share of households below the poverty line and in asset poverty, "
                         "by year and scenario: mean over replicates with 95% CI bands.",
    "difference_at_horizon": "Paired difference from the baseline at the horizon (scenario − "
                             "baseline, percentage points) with 95% CIs.",
    "cost_vs_poverty": "Extra fiscal cost per household per year against the reduction of the "
                       "poverty headcount at the horizon, with 95% CIs (baseline at 0, 0).",
    "frontier": "Designs at equal budget: gain over the baseline against extra fiscal cost per "
                "household per year, each lever's grid as a line, 95% CIs both ways; circled: "
                "points no other point beats at the same or lower cost.",
    "who_gains": "Effect per household over the run (scenario − the same household in the "
                 "baseline) by the herd per person it started with, in quintiles, with 95% CIs.",
}

WHO_GAINS_NOTE = (
    "Each household against itself in the paired baseline run (same weather and luck); "
    "effects per household over the whole run. Groups: quintiles of the herd per person the "
    "household started with, households founded during the run, and beneficiaries (paid more "
    "cash or given more animals than in the baseline) against the others. Worse off: mean "
    "consumption per person more than 1% below the baseline's. Weighted by their shares of "
    "households, the groups add up to all households. By aimag and soum: distribution.csv.")


def scenario_table_rows(c: BriefContent, scenario: str) -> tuple[list[str], list[list[str]]]:
    b = c.batch
    if scenario == b.baseline:
        header = ["Year", "Outcome", "Mean (95% CI)", "Unit", "Replicates"]
        rows = []
        for year in report_years(b.horizon(scenario)):
            t = level_table(b, scenario, year)
            for _, r in t.iterrows():
                ci = ("" if not math.isfinite(r["ci_low"]) else
                      f" ({fmt_num(r['ci_low'], r['kind'])} to {fmt_num(r['ci_high'], r['kind'])})")
                rows.append([str(year), r["label"], f"{fmt_num(r['mean'], r['kind'])}{ci}",
                             r["unit"], str(int(r["n"]))])
        return header, rows
    header = ["Year", "Outcome", "Baseline", "Scenario", "Difference (95% CI)", "Unit", "n"]
    rows = []
    f = c.findings[c.findings["scenario"] == scenario]
    for _, r in f.iterrows():
        o = OUTCOME_BY_KEY[r["outcome"]]
        ci = (f" ({fmt_num(r['ci_low'], o.kind)} to {fmt_num(r['ci_high'], o.kind)})"
              if math.isfinite(r["ci_low"]) else "")
        sign = "+" if r["difference"] > 0 else ""
        rows.append([str(r["horizon_year"]), o.short, fmt_num(r["baseline_mean"], o.kind),
                     fmt_num(r["scenario_mean"], o.kind),
                     f"{sign}{fmt_num(r['difference'], o.kind)}{ci}", o.unit,
                     str(int(r["n_replicates"]))])
    return header, rows


# --------------------------------------------------------------------------- Markdown


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(s: str) -> str:
        return str(s).replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(esc(x) for x in row) + " |" for row in rows]
    return "\n".join(out)


def render_markdown(c: BriefContent) -> str:
    b = c.batch
    lines = [f"# {c.title}", "",
             f"*herdtrap {c.version} · commit {c.commit[:12]} · {c.date} · baseline "
             f"“{b.baseline}” · {b.manifest.get('replicates')} replicates*", "",
             "## Key findings", ""]
    horizon = b.horizon(b.baseline)
    lines += [f"- {s}" for s in key_sentences(c)]
    if c.findings.empty:
        lines.append("- (no scenario besides the baseline has finished runs)")
    lines += ["", f"All findings, including herding and exits, are in findings.csv "
              f"({len(c.findings)} rows); horizon {horizon} years.", "", "## Figures", ""]
    if c.figure_note:
        lines += [f"> {c.figure_note}", ""]
    for stem, caption in FIGURE_CAPTIONS.items():
        files = c.figures.get(stem)
        if files:
            lines += [f"![{caption}]({files['png']})", "",
                      f"*{caption}* ([PNG]({files['png']}), [SVG]({files['svg']}))", ""]
    if c.frontier is not None and c.frontier[0].budgets:
        from experiments.report.frontier_render import budget_display, outcome_lines, verdicts

        spec, _, eq, long = c.frontier
        t = budget_display(spec, eq)
        lines += ["## At equal budgets", "", *[f"- {v}" for v in verdicts(spec, eq)], "",
                  _md_table(list(t.columns), t.astype(str).values.tolist()), ""]
        if long is not None and not long.empty:
            lines += ["Best design by outcome (gain over the baseline, then the paired "
                      "margin over the next design):", "", "```",
                      *outcome_lines(spec, long), "```", ""]
        lines += ["Every point of the frontier: frontier/points.csv (`herdtrap frontier`).",
                  ""]
    if c.scorecard is not None:
        from experiments.report import triggers_render as tr

        t, y = tr.display(c.scorecard), tr.years_display(c.scorecard)
        lines += ["## How well the triggers fire", "", tr.note(c.scorecard), "",
                  _md_table(list(t.columns), t.astype(str).values.tolist()), "",
                  _md_table(list(y.columns), y.astype(str).values.tolist()), ""]
    if c.distribution is not None:
        from experiments.report.distribution_render import headline

        lines += ["## Who gains and who loses", "", WHO_GAINS_NOTE, ""]
        for s in c.distribution.scenarios:
            header, rows = who_gains_rows(c.distribution, s)
            lines += [f"### {s}", "", headline(c.distribution, s), "", _md_table(header, rows), ""]
    lines += ["## Results by scenario", ""]
    for s in b.scenarios:
        header, rows = scenario_table_rows(c, s)
        desc = b.resolved(s).get("description", "")
        lines += [f"### {s}", "", f"{desc} Hash {b.manifest['scenarios'][s].get('hash', '?')}. "
                  f"Differs from baseline: {scenario_differences(b, s)}.", "",
                  _md_table(header, rows), ""]
    if len(b.failed):
        lines += [f"Failed runs (left out): {len(b.failed)} — "
                  + ", ".join(f"{r.scenario} r{int(r.replicate)}" for r in b.failed.itertuples()),
                  ""]
    lines += ["## Methods", "", _md_table(["", ""], [[k, v] for k, v in methods_rows(c)]), "",
              "## Limitations", "", limitations(c), "",
              "## Citation and reproduction", "",
              _md_table(["", ""], [[k, v] for k, v in citation_rows(c)]), "",
              "Reproduce the batch and this brief (findings.csv is identical) from the root of "
              "a fresh clone:",
              "", "```bash", f"git checkout {c.commit}", c.reproduce, "```", ""]
    if c.dirty:
        lines += ["> The batch ran from a work tree with uncommitted changes: the commit alone "
                  "may not reproduce it.", ""]
    lines += [f"> Note: {w}." for w in c.warnings]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

def render_html(c: BriefContent, out_dir: Path, figs: dict[str, Any]) -> str:
    """Self-contained HTML: SVG figures as data: URIs, or inline plotly.js without images."""
    b = c.batch
    figures = []
    first_js = True
    for stem, caption in FIGURE_CAPTIONS.items():
        files = c.figures.get(stem)
        if files:
            svg = (out_dir / files["svg"]).read_bytes()
            uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
            body = Markup('<img src="{}" alt="{}">').format(uri, caption)
        elif stem in figs:  # no static export: interactive figure, plotly.js inline
            body = Markup(figs[stem].to_html(full_html=False, include_plotlyjs=bool(first_js),
                                             config={"displaylogo": False}))
            first_js = False
        else:
            continue
        figures.append((body, caption))
    scenarios = []
    for s in b.scenarios:
        header, rows = scenario_table_rows(c, s)
        scenarios.append({"name": s, "description": b.resolved(s).get("description", ""),
                          "hash": str(b.manifest["scenarios"][s].get("hash", "?")),
                          "differences": scenario_differences(b, s),
                          "table": table(rows, header)})
    gains = []
    if c.distribution is not None:
        from experiments.report.distribution_render import headline

        for s in c.distribution.scenarios:
            header, rows = who_gains_rows(c.distribution, s)
            gains.append({"name": s, "headline": headline(c.distribution, s),
                          "table": table(rows, header)})
    budgets = None
    if c.frontier is not None and c.frontier[0].budgets:
        from experiments.report.frontier_render import budget_display, outcome_lines, verdicts

        spec, _, eq, long = c.frontier
        budgets = {"verdicts": verdicts(spec, eq), "table": table(budget_display(spec, eq)),
                   "lines": outcome_lines(spec, long) if long is not None and not long.empty
                   else []}
    trig = None
    if c.scorecard is not None:
        from experiments.report import triggers_render as tr

        trig = {"note": tr.note(c.scorecard), "table": table(tr.display(c.scorecard)),
                "years": table(tr.years_display(c.scorecard))}
    return render(
        "brief.html", triggers=trig, budgets=budgets, who_gains=gains, who_gains_note=WHO_GAINS_NOTE, title=c.title, version=c.version, commit=c.commit, date=c.date,
        baseline=b.baseline, replicates=str(b.manifest.get("replicates")),
        key_sentences=key_sentences(c), n_findings=len(c.findings),
        figure_note=c.figure_note, figures=figures, scenarios=scenarios,
        n_failed=len(b.failed), methods=kv_table(methods_rows(c)), limitations=limitations(c),
        citation=kv_table(citation_rows(c)), reproduce=c.reproduce, dirty=c.dirty,
        warnings=c.warnings)
