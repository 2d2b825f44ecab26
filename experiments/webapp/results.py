"""Results page: open a finished batch or sensitivity folder and browse it.

Reads only what the batch, compare, sensitivity and trap commands write
(``manifest.json``, ``runs.parquet``, ``timeseries.parquet``,
``compare/*.csv``, ``indices.csv``, ``trap/trap.json``, PNG figures) and
plots it with plotly; it never re-runs the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import solara

from experiments.webapp import figures
from experiments.webapp.appmodel import results_root
from experiments.webapp.explore import results_threshold, trap_threshold
from experiments.webapp.plotly_view import Plot

KINDS = ("batch", "sensitivity")
MAX_TABLE_ROWS = 200


def result_folders(root: Path) -> list[dict]:
    """Folders under ``root`` (one level, and one below) with a batch/sensitivity manifest."""
    found = []
    if not root.is_dir():
        return found
    for manifest in sorted(list(root.glob("*/manifest.json")) + list(root.glob("*/*/manifest.json"))):
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError):
            continue
        if data.get("kind") in KINDS:
            found.append({"path": manifest.parent, "kind": data["kind"], "manifest": data,
                          "name": str(manifest.parent.relative_to(root))})
    return found


def read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return data if data.get("kind") in KINDS else None


def _read_table(path: Path) -> pd.DataFrame | None:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError, ImportError):
        return None


def batch_timeseries_figure(ts: pd.DataFrame, col: str) -> go.Figure:
    """Mean of ``col`` over replicates per scenario and year, with a 10-90% band."""
    fig = go.Figure()
    for k, (scen, g) in enumerate(ts.groupby("scenario", sort=True)):
        colour = figures.PROGRAMME_COLOURS[k % len(figures.PROGRAMME_COLOURS)]
        q = g.groupby("year")[col].quantile([0.1, 0.9]).unstack()
        mean = g.groupby("year")[col].mean()
        fig.add_trace(go.Scatter(x=list(q.index) + list(q.index[::-1]),
                                 y=list(q[0.9]) + list(q[0.1][::-1]), fill="toself",
                                 line={"width": 0}, fillcolor=colour, opacity=0.15,
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=mean.index, y=mean.values, name=str(scen), mode="lines",
                                 line={"color": colour, "width": 2.5}))
    is_share = ts[col].between(0, 1).all()
    fig.update_yaxes(title=col, tickformat=".0%" if is_share else None)
    fig.update_xaxes(title="year")
    return figures._layout(fig, f"{col}: mean over replicates (band: 10–90%)", height=420)


def comparison_figure(cmp: pd.DataFrame) -> go.Figure | None:
    """Difference vs baseline with CI per scenario for the first outcome column found."""
    cols = {c.lower(): c for c in cmp.columns}
    diff = next((cols[c] for c in ("diff", "difference", "mean_diff", "effect") if c in cols), None)
    lo = next((cols[c] for c in ("ci_low", "diff_ci_low", "lo", "ci_lo") if c in cols), None)
    hi = next((cols[c] for c in ("ci_high", "diff_ci_high", "hi", "ci_hi") if c in cols), None)
    if diff is None or "scenario" not in cmp.columns:
        return None
    df = cmp
    if "outcome" in cmp.columns:
        first = cmp["outcome"].iloc[0]
        df = cmp[cmp["outcome"] == first]
    err = None
    if lo and hi:
        err = {"type": "data", "symmetric": False, "array": (df[hi] - df[diff]).tolist(),
               "arrayminus": (df[diff] - df[lo]).tolist()}
    fig = go.Figure(go.Bar(x=df[diff], y=df["scenario"].astype(str), orientation="h",
                           error_x=err, marker={"color": figures.A_COLOUR}))
    title = "Difference vs baseline" + (f": {first}" if "outcome" in cmp.columns else "")
    return figures._layout(fig, title + " (95% CI)", height=360)


def indices_figure(idx: pd.DataFrame) -> go.Figure | None:
    """Sobol S1/ST (or Morris mu*) per parameter, for the first outcome."""
    cols = {c.lower(): c for c in idx.columns}
    name = next((cols[c] for c in ("parameter", "name", "param", "names") if c in cols), None)
    if name is None:
        return None
    df = idx
    outcome = None
    if "outcome" in cols:
        outcome = idx[cols["outcome"]].iloc[0]
        df = idx[idx[cols["outcome"]] == outcome]
    fig = go.Figure()
    for key, colour in (("s1", figures.A_COLOUR), ("st", figures.B_COLOUR), ("mu_star", figures.A_COLOUR)):
        if key in cols:
            conf = cols.get(f"{key}_conf")
            fig.add_trace(go.Bar(
                y=df[name], x=df[cols[key]], name=cols[key], orientation="h",
                marker={"color": colour},
                error_x={"type": "data", "array": df[conf].tolist()} if conf else None,
            ))
    if not fig.data:
        return None
    fig.update_yaxes(autorange="reversed")
    return figures._layout(fig, f"Sensitivity indices{': ' + str(outcome) if outcome else ''}",
                           height=max(360, 22 * len(df) + 120), barmode="group")


@solara.component
def FolderView(folder: Path):
    col, set_col = solara.use_state("")
    manifest = read_manifest(folder)
    if manifest is None:
        solara.Warning(f"{folder} has no manifest.json of kind batch or sensitivity.")
        return
    kind = manifest["kind"]
    counts = manifest.get("counts", {})
    solara.HTML(tag="div", style={"font-size": "14px"}, unsafe_innerHTML=(
        f"<b>{folder.name}</b> — {kind}; scenarios: "
        f"{', '.join(manifest.get('scenarios', {})) or '—'}; replicates: "
        f"{manifest.get('replicates', '—')}; years: {manifest.get('years', '—')}; "
        f"runs done {counts.get('done', '—')} / {counts.get('total', '—')}; "
        f"git {str(manifest.get('git', ''))[:10]}; finished {manifest.get('finished', '—')}"
    ))
    thr = results_threshold(folder)
    if thr is not None:
        with solara.Row(style={"align-items": "center"}):
            solara.Text(f"Poverty-trap threshold: {thr['value']:.1f} SFU per person.")
            solara.Button("Show the trap share on the Explore page", outlined=True,
                          on_click=lambda: trap_threshold.set(thr))
    ts = _read_table(folder / "timeseries.parquet")
    if ts is not None and len(ts) and "scenario" in ts:
        options = [c for c in ("poverty_headcount", "asset_poverty", "herding_share",
                               "herd_sfu_median", "fiscal_cost") if c in ts]
        if options:
            solara.ToggleButtonsSingle(value=col if col in options else options[0],
                                       values=options, on_value=set_col, dense=True)
            Plot(batch_timeseries_figure(ts, col if col in options else options[0]))
    # the first table found of each kind: a batch comparison, sensitivity indices
    for names, make_figure in ((("compare/comparison.csv", "comparison.csv"), comparison_figure),
                               (("indices.csv", "sensitivity/indices.csv"), indices_figure)):
        for name in names:
            table = _read_table(folder / name)
            if table is not None and len(table):
                fig = make_figure(table)
                if fig is not None:
                    Plot(fig)
                solara.Text(name, style={"font-weight": "600"})
                solara.DataFrame(table.head(MAX_TABLE_ROWS), items_per_page=15)
                break
    runs = _read_table(folder / "runs.parquet")
    if runs is not None and len(runs) and "scenario" in runs:
        num = runs.select_dtypes("number").drop(columns=["replicate", "root_seed"], errors="ignore")
        table = num.groupby(runs["scenario"]).mean().T.reset_index(names="outcome (mean)")
        solara.Text("runs.parquet: mean over replicates", style={"font-weight": "600"})
        solara.DataFrame(table.round(4), items_per_page=12)
    pngs = sorted(folder.glob("*.png")) + sorted(folder.glob("*/*.png"))
    if pngs:
        solara.Text("Figures", style={"font-weight": "600"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            for png in pngs[:12]:
                with solara.Column(gap="0px"):
                    solara.Text(str(png.relative_to(folder)), style={"font-size": "12px"})
                    solara.Image(png, width="420px")
    reports = [p for p in (folder / "compare" / "report.html", folder / "report.html") if p.is_file()]
    for report in reports:
        solara.Text(f"HTML report: {report} (open it in your browser)", style={"font-size": "12px"})


@solara.component
def ResultsPage():
    root_text, set_root_text = solara.use_state(str(results_root()))
    selected, set_selected = solara.use_state("")
    refresh, set_refresh = solara.use_state(0)
    root = Path(root_text).expanduser()
    folders = solara.use_memo(lambda: result_folders(root), [root_text, refresh])
    direct = read_manifest(root) if root.is_dir() else None
    with solara.Column(style={"padding": "12px"}):
        solara.HTML(tag="h3", unsafe_innerHTML="Results")
        solara.Text("Open a finished `herdtrap batch` or `herdtrap sensitivity` folder. "
                    "Nothing is re-run: the figures come from its files.")
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Results folder (or a batch folder)", value=root_text,
                             on_value=set_root_text, continuous_update=False,
                             style={"min-width": "520px"})
            solara.Button("Refresh", on_click=lambda: set_refresh(refresh + 1), outlined=True)
        if direct is not None:
            FolderView(root)
            return
        if not folders:
            solara.Info(f"No batch or sensitivity results under {root}. Run e.g. "
                        "`herdtrap batch scenarios/baseline.toml scenarios/child_money.toml` "
                        "first.")
            return
        names = [f["name"] for f in folders]
        current = selected if selected in names else names[-1]
        solara.Select("Folder", value=current, values=names, on_value=set_selected)
        FolderView(root / current)
