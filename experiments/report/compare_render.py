"""The report of `herdtrap compare`: the printed summary, the plotly figures and the
self-contained HTML page, from the tables of :mod:`experiments.analysis.compare_compute`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape as html_escape

import numpy as np
import pandas as pd
from markupsafe import Markup

from experiments.analysis.compare_compute import (
    BOOTSTRAP,
    LABELS,
    SHARES,
    Batch,
    t_interval,
    wide,
    with_counts,
)
from experiments.analysis.distribution import WORSE_OFF
from experiments.report.figures import rgba, series_style
from experiments.report.html import (
    fmt_diff,
    fmt_interval,
    fmt_money,
    fmt_money_interval,
    fmt_value,
    render,
    significant,
    table,
)
from experiments.report.provenance import now_iso, uncertainty_note
from experiments.run.runner import OUTCOMES

#: Outcomes in the printed table (summary outcomes of runs.parquet).
PRINTED = ("poverty_headcount_final", "asset_poverty_final", "poverty_years_per_household",
           "herding_share_final", "fiscal_cost_total")
#: Outcomes drawn over time in the report.
PLOTTED = ("poverty_headcount", "asset_poverty", "herding_share", "fiscal_cost")


# --------------------------------------------------------------------------- printing


def text_report(batch: Batch, baseline: str, comparison: pd.DataFrame, levels: pd.DataFrame,
                costs: pd.DataFrame) -> str:
    n_rep = batch.manifest.get("replicates")
    lines = [f"herdtrap compare: {batch.dir} — {len(batch.scenarios)} scenarios x {n_rep} "
             f"replicates, baseline {baseline!r}"
             + (f" ({batch.failed} failed runs left out)" if batch.failed else ""),
             f"95% CIs: {uncertainty_note(batch.manifest)}"]
    if batch.not_compared:
        lines.append(f"not compared: {', '.join(batch.not_compared)} (every run failed; see the "
                     "error column of runs.parquet)")
    w = max(12, *(len(s) for s in batch.scenarios)) + 2
    for name in PRINTED:
        lv = levels[(levels["outcome"] == name) & (levels["horizon"] == "run")]
        if lv.empty:
            continue
        direction = OUTCOMES.get(name, "")
        lines.append("")
        lines.append(f"{LABELS.get(name, name)} ({'lower' if direction == 'min' else 'higher'} "
                     "is better)")
        lines.append(f"  {'scenario':{w}s}{'level':>10s}   {'diff vs baseline [95% CI]':34s}"
                     f"{'CI width paired | independent seeds':>36s}")
        for sc in batch.scenarios:
            row = lv[lv["scenario"] == sc]
            level = fmt_value(name, float(row["mean"].iloc[0])) if len(row) else "n/a"
            c = comparison[(comparison["outcome"] == name) & (comparison["horizon"] == "run")
                           & (comparison["scenario"] == sc)]
            if sc == baseline:
                lines.append(f"  {sc:{w}s}{level:>10s}   {'(baseline)':34s}")
                continue
            if c.empty:
                continue
            r = c.iloc[0]
            ci = (f"{fmt_diff(name, r.diff_mean)} [{fmt_diff(name, r.diff_ci_low)}, "
                  f"{fmt_diff(name, r.diff_ci_high)}]")
            widths = (f"{fmt_diff(name, r.ci_width_paired).lstrip('+')} | "
                      f"{fmt_diff(name, r.ci_width_independent).lstrip('+')}"
                      + (f" ({r.width_ratio:.1f}x)" if np.isfinite(r.width_ratio) else ""))
            lines.append(f"  {sc:{w}s}{level:>10s}   {ci:34s}{widths:>36s}")
    if not costs.empty:
        lines.append("")
        lines.append("cost-effectiveness vs. baseline (kMNT = thousand tugrik; ratio of means "
                     "[95% bootstrap CI])")
        lines.append(f"  {'scenario':{w}s}{'extra cost':>16s}{'poverty-yrs averted':>21s}"
                     f"{'per poverty-yr averted':>30s}{'per hh out of asset poverty':>36s}")
        for r in costs.itertuples():
            per_py = fmt_money_interval(r.cost_per_poverty_year_averted_kmnt,
                                        r.cost_per_poverty_year_ci_low,
                                        r.cost_per_poverty_year_ci_high)
            per_hh = fmt_money_interval(r.cost_per_household_out_of_asset_poverty_kmnt,
                                        r.cost_per_household_ci_low,
                                        r.cost_per_household_ci_high)
            lines.append(f"  {r.scenario:{w}s}{fmt_money(r.extra_fiscal_cost_kmnt):>16s}"
                         f"{r.poverty_years_averted:>21,.0f}{per_py:>30s}{per_hh:>36s}")
            if r.note:
                lines.append(f"  {'':{w}s}note: {r.note}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def _colours(scenarios: Sequence[str], baseline: str | None = None) -> dict[str, str]:
    """The reports' series colours (experiments/report/figures.py): the baseline black,
    the other scenarios the Okabe-Ito colours in order."""
    order = ([baseline] if baseline in scenarios else []) + [s for s in scenarios
                                                               if s != baseline]
    return {s: series_style(i if baseline in scenarios else i + 1)["color"]
            for i, s in enumerate(order)}


def _band_traces(go, x, mean, low, high, colour, name, show_legend, legendgroup):
    return [
        go.Scatter(x=list(x) + list(x)[::-1], y=list(high) + list(low)[::-1], fill="toself",
                   mode="lines",
                   fillcolor=rgba(colour, 0.18), line={"width": 0}, hoverinfo="skip",
                   showlegend=False, legendgroup=legendgroup, name=name),
        go.Scatter(x=list(x), y=list(mean), mode="lines", line={"color": colour, "width": 2},
                   name=name, legendgroup=legendgroup, showlegend=show_legend),
    ]


def _yearly_stats(ts: pd.DataFrame, metric: str) -> pd.DataFrame:
    def ci(g):
        m, lo, hi = t_interval(g.to_numpy(float))
        return pd.Series({"mean": m, "low": lo, "high": hi})

    return ts.groupby(["scenario", "year"])[metric].apply(ci).unstack()


def figure_over_time(batch: Batch, baseline: str):
    """Each plotted outcome over time: mean with 95% CI band; and paired difference."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ts = batch.timeseries
    metrics = [m for m in PLOTTED if m in ts]
    colours = _colours(batch.scenarios, baseline)
    fig = make_subplots(rows=len(metrics), cols=2, shared_xaxes=True,
                        subplot_titles=[t for m in metrics
                                        for t in (LABELS.get(m, m),
                                                  f"difference vs. {baseline} (paired, 95% CI)")],
                        vertical_spacing=0.06)
    wide = {m: ts.pivot_table(index=["replicate", "year"], columns="scenario", values=m)
            for m in metrics}
    for i, m in enumerate(metrics, start=1):
        st = _yearly_stats(ts, m)
        scale = 100.0 if m in SHARES else 1.0
        for sc in batch.scenarios:
            if sc not in st.index.get_level_values(0):
                continue
            s = st.loc[sc]
            for tr in _band_traces(go, s.index, s["mean"] * scale, s["low"] * scale,
                                   s["high"] * scale, colours[sc], sc, i == 1, sc):
                fig.add_trace(tr, row=i, col=1)
            if sc == baseline or baseline not in wide[m] or sc not in wide[m]:
                continue
            d = (wide[m][sc] - wide[m][baseline]).dropna().rename("d").reset_index()
            ds = d.groupby("year")["d"].apply(lambda g: pd.Series(t_interval(g.to_numpy()),
                                                                  index=["mean", "low", "high"]))
            ds = ds.unstack()
            for tr in _band_traces(go, ds.index, ds["mean"] * scale, ds["low"] * scale,
                                   ds["high"] * scale, colours[sc], sc, False, sc):
                fig.add_trace(tr, row=i, col=2)
        fig.update_yaxes(title_text="%" if m in SHARES else "", row=i, col=1)
        fig.update_yaxes(title_text="pp" if m in SHARES else "", row=i, col=2)
    fig.update_xaxes(title_text="year", row=len(metrics))
    fig.update_layout(height=280 * len(metrics) + 80, template="plotly_white",
                      title="Outcomes over time (mean over replicates, 95% CI band)",
                      legend={"orientation": "h", "y": -0.05})
    return fig


def figure_herd_distribution(batch: Batch, baseline: str | None = None):
    """Herd size (SFU) at the horizon: from the household panel, else from yearly quantiles."""
    import plotly.graph_objects as go

    colours = _colours(batch.scenarios, baseline)
    fig = go.Figure()
    if batch.panel is not None and "herd_sfu" in batch.panel:
        last = int(batch.panel["year"].max())
        at = batch.panel[(batch.panel["year"] == last)]
        if "herding" in at:
            at = at[at["herding"].astype(bool)]
        at = at[at["herd_sfu"] > 0]
        for sc in batch.scenarios:
            x = at.loc[at["scenario"] == sc, "herd_sfu"]
            fig.add_trace(go.Violin(y=x, name=sc, line_color=colours[sc], box_visible=True,
                                    meanline_visible=True, points=False, spanmode="hard"))
        title = (f"Herd size of herding households in year {last} (household panel, all "
                 "replicates; log scale)")
        fig.update_yaxes(type="log")
    else:
        ts = batch.timeseries
        last = int(ts["year"].max())
        at = ts[ts["year"] == last].groupby("scenario")[
            ["herd_sfu_p10", "herd_sfu_p25", "herd_sfu_median", "herd_sfu_p75", "herd_sfu_p90"]
        ].mean()
        for sc in batch.scenarios:
            if sc not in at.index:
                continue
            q = at.loc[sc]
            fig.add_trace(go.Box(name=sc, q1=[q.herd_sfu_p25], median=[q.herd_sfu_median],
                                 q3=[q.herd_sfu_p75], lowerfence=[q.herd_sfu_p10],
                                 upperfence=[q.herd_sfu_p90], marker_color=colours[sc]))
        title = (f"Herd size in year {last}: 10th, 25th, 50th, 75th, 90th percentiles "
                 "(mean over replicates; run the batch with --household-panel for the full "
                 "distribution)")
    fig.update_layout(title=title, yaxis_title="herd (sheep units)", template="plotly_white",
                      height=480, showlegend=False)
    return fig


def figure_cost(batch: Batch, baseline: str, costs: pd.DataFrame):
    """Extra fiscal cost vs. poverty-years averted (means with 95% CIs, replicates faint)."""
    import plotly.graph_objects as go

    colours = _colours(batch.scenarios, baseline)
    fig = go.Figure()
    runs = with_counts(batch)
    cost, pov = wide(runs, "fiscal_cost_total"), wide(runs, "poverty_years")
    for r in costs.itertuples():
        sc = r.scenario
        x = (pov[baseline] - pov[sc]).dropna()
        y = (cost[sc] - cost[baseline]).reindex(x.index)
        fig.add_trace(go.Scatter(x=x, y=y / 1000, mode="markers", name=f"{sc} (replicates)",
                                 marker={"color": rgba(colours[sc], 0.25), "size": 5},
                                 legendgroup=sc, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=[r.poverty_years_averted], y=[r.extra_fiscal_cost_kmnt / 1000], mode="markers+text",
            text=[sc], textposition="top center", name=sc, legendgroup=sc,
            marker={"color": colours[sc], "size": 12},
            error_x={"type": "data", "symmetric": False,
                     "array": [r.poverty_years_averted_ci_high - r.poverty_years_averted],
                     "arrayminus": [r.poverty_years_averted - r.poverty_years_averted_ci_low]},
            error_y={"type": "data", "symmetric": False,
                     "array": [(r.extra_fiscal_cost_ci_high - r.extra_fiscal_cost_kmnt) / 1000],
                     "arrayminus": [(r.extra_fiscal_cost_kmnt - r.extra_fiscal_cost_ci_low) / 1000]},
        ))
    fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers+text", text=[baseline],
                             textposition="bottom center", name=baseline,
                             marker={"color": "black", "size": 10, "symbol": "x"}))
    fig.update_layout(
        title=f"Cost vs. poverty reduction, each scenario minus {baseline} over the whole horizon",
        xaxis_title="poverty-years averted (household-years)",
        yaxis_title="extra fiscal cost (million MNT)", template="plotly_white", height=520,
    )
    return fig


def display_comparison(comparison: pd.DataFrame) -> pd.DataFrame:
    """The whole-run rows of comparison.csv, formatted for reading."""
    rows = []
    for r in comparison[comparison["horizon"] == "run"].itertuples():
        rows.append({
            "outcome": LABELS.get(r.outcome, r.outcome), "scenario": r.scenario,
            "level": fmt_value(r.outcome, r.scenario_mean),
            "baseline": fmt_value(r.outcome, r.baseline_mean),
            "difference [95% CI]": fmt_interval(r.outcome, r.diff_mean, r.diff_ci_low,
                                            r.diff_ci_high, True),
            "CI width paired": fmt_diff(r.outcome, r.ci_width_paired).lstrip("+"),
            "CI width independent seeds": fmt_diff(r.outcome, r.ci_width_independent).lstrip("+"),
            "ratio": f"{r.width_ratio:.1f}x" if np.isfinite(r.width_ratio) else "n/a",
            "verdict": {True: "better", False: "worse"}.get(r.better, "no significant change"),
        })
    return pd.DataFrame(rows)


def display_costs(costs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in costs.itertuples():
        rows.append({
            "scenario": r.scenario, "pairs": r.n_pairs,
            "extra fiscal cost, kMNT [95% CI]": fmt_money_interval(
                r.extra_fiscal_cost_kmnt, r.extra_fiscal_cost_ci_low,
                r.extra_fiscal_cost_ci_high),
            "poverty-years averted [95% CI]": fmt_money_interval(
                r.poverty_years_averted, r.poverty_years_averted_ci_low,
                r.poverty_years_averted_ci_high),
            "households kept out of asset poverty [95% CI]": (
                f"{r.asset_poor_households_averted:,.1f} [{r.asset_poor_averted_ci_low:,.1f}, "
                f"{r.asset_poor_averted_ci_high:,.1f}]"),
            "kMNT per poverty-year averted [95% CI]": fmt_money_interval(
                r.cost_per_poverty_year_averted_kmnt, r.cost_per_poverty_year_ci_low,
                r.cost_per_poverty_year_ci_high),
            "kMNT per household kept out of asset poverty [95% CI]": fmt_money_interval(
                r.cost_per_household_out_of_asset_poverty_kmnt, r.cost_per_household_ci_low,
                r.cost_per_household_ci_high),
            "note": r.note,
        })
    return pd.DataFrame(rows)


def _table_html(df: pd.DataFrame) -> str:
    return table(df, formats=significant(4, thousands=True), classes="numbers")


def distribution_html(dist) -> list[tuple[str, str]]:
    """(scenario, tables HTML) of the "who gains" section; [] without household outcomes."""
    from experiments.report import distribution_render as dr

    if dist is None or dist.table.empty:
        return []
    out = []
    for s in dist.scenarios:
        parts = [Markup(f"<p>{html_escape(dr.headline(dist, s))}</p>")]
        for by, title in (("quintile", "by starting herd per person (quintiles)"),
                          ("aimag", "by aimag"), ("beneficiary", "beneficiaries and others")):
            parts.append(Markup(f"<h4>{title}</h4>"))
            parts.append(Markup(table(dr.display(dist, s, by))))
        out.append((s, Markup("\n".join(parts))))
    return out


def triggers_html(card) -> dict | None:
    """The trigger scorecard section; None when no policy pays on a signal."""
    from experiments.report import triggers_render as tr

    if card is None or card.table.empty:
        return None
    return {"note": tr.note(card), "table": Markup(table(tr.display(card))),
            "years": Markup(table(tr.years_display(card)))}


def html_report(batch: Batch, baseline: str, comparison: pd.DataFrame, levels: pd.DataFrame,
                costs: pd.DataFrame, dist=None, card=None) -> str:
    from experiments.report import distribution_render

    m = batch.manifest
    figs = [figure_over_time(batch, baseline), figure_herd_distribution(batch)]
    if not costs.empty:
        figs.append(figure_cost(batch, baseline, costs))
    if dist is not None and not dist.table.empty:
        figs.append(distribution_render.figure(dist))
    fig_html = [Markup(f.to_html(full_html=False, include_plotlyjs=(i == 0),
                                 default_width="100%"))
                for i, f in enumerate(figs)]
    main = display_comparison(comparison) if not comparison.empty else comparison
    width_ratio = None
    if not comparison.empty:
        key = comparison[comparison["outcome"].isin(PRINTED) & (comparison["horizon"] == "run")
                         & ~comparison["outcome"].str.startswith("fiscal")]
        key = key[np.isfinite(key["width_ratio"])]
        if len(key):
            width_ratio = {k: f"{getattr(key['width_ratio'], k)():.1f}"
                           for k in ("median", "min", "max")}
    git = m.get("git", {})
    return render(
        "compare.html", wide=True, batch_dir=str(batch.dir), n_scenarios=len(batch.scenarios),
        replicates=m.get("replicates"), years=m.get("years"), root_seed=m.get("root_seed"),
        baseline=baseline, failed=batch.failed, not_compared=batch.not_compared,
        written=now_iso(), uncertainty=uncertainty_note(m), bootstrap=BOOTSTRAP,
        width_ratio=width_ratio, distribution=distribution_html(dist),
        triggers=triggers_html(card),
        worse_off=f"{WORSE_OFF:.0%}",
        costs_table=_table_html(display_costs(costs)) if not costs.empty else None,
        comparison_table=_table_html(main) if not main.empty else "",
        figures=fig_html, levels_table=_table_html(levels[levels["horizon"] != "run"]),
        scenarios_table=table([[s, str(m["scenarios"][s]["hash"]),
                                str(m["scenarios"][s].get("source"))] for s in batch.scenarios],
                              ["scenario", "hash", "source"]),
        command=str(m.get("command")), commit=str(git.get("commit")), dirty=git.get("dirty"),
        versions=json.dumps(m.get("versions", {})), started=m.get("started"),
        finished=m.get("finished"))
