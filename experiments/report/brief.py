"""`herdtrap brief DIR`: a citable policy brief from a finished batch folder.

It reads the batch folder (manifest.json, runs.parquet, timeseries.parquet;
never re-runs the model) and writes ``DIR/brief/``:

* ``findings.csv`` — one row per (scenario, outcome, year): baseline and
  scenario means, the paired difference with its 95% CI, the number of
  replicates, the unit and the sentence used in the brief;
* ``brief.md`` and ``brief.html`` (self-contained: figures embedded, no
  external scripts or styles, works offline);
* ``figures/*.png`` and ``figures/*.svg`` (plotly + kaleido through the
  system Chromium; skipped, and the brief says so, when there is no browser).

This module is the command and the writing of the folder; the findings, their
statistics and units are :mod:`experiments.report.brief_compute` (its docstring), the
Markdown, HTML and figures :mod:`experiments.report.brief_render`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from experiments.report.brief_compute import (
    BriefContent,
    BriefError,
    compute_findings,
    herdtrap_version,
    load_batch,
    reproduce_command,
    scenario_file_warnings,
)
from experiments.report.brief_render import (
    frontier_of,
    make_figures,
    render_html,
    render_markdown,
    style_frontier,
    style_who_gains,
    trigger_scorecard,
    who_gains,
)
from experiments.report.provenance import check_output_folder, git_commit, now_iso

# --------------------------------------------------------------------------- writing


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _normal_permissions(folder: Path) -> None:
    """Temporary files are private (0600/0700); give the brief the user's usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [folder, *folder.rglob("*")]:
        p.chmod((0o777 if p.is_dir() else 0o666) & ~umask)


def write_brief(batch_dir: str | Path, *, baseline: str | None = None,
                title: str | None = None, images: bool = True,
                scenarios: Sequence[str] | None = None,
                log: Callable[[str], None] = print) -> Path:
    """Write ``batch_dir/brief/`` and return its path.

    Everything is written to a temporary folder next to it first and moved into
    place at the end, so a crash never leaves a half-written brief.
    """
    from tqdm import tqdm

    batch = load_batch(batch_dir, baseline, scenarios)
    findings = compute_findings(batch)
    figs = make_figures(batch, findings)
    dist = who_gains(batch)
    if dist is not None:
        figs["who_gains"] = style_who_gains(dist)
    frontier = frontier_of(batch)
    if frontier is not None:
        figs["frontier"] = style_frontier(frontier)
    target = check_output_folder(batch.path / "brief", BriefError)
    tmp = Path(tempfile.mkdtemp(prefix=".brief.", suffix=".tmp", dir=batch.path))
    try:
        (tmp / "figures").mkdir()
        figures: dict[str, dict[str, str]] = {}
        note = None
        if images:
            from experiments.report.figures import FigureExportError, export_figure, figure_exporter

            try:
                with figure_exporter():
                    for stem, fig in tqdm(figs.items(), desc="figures", unit="fig",
                                          disable=not sys.stderr.isatty()):
                        export_figure(fig, tmp / "figures" / stem)
                        figures[stem] = {"png": f"figures/{stem}.png",
                                         "svg": f"figures/{stem}.svg"}
            except FigureExportError as exc:
                figures = {}
                note = (f"PNG/SVG figures were skipped: {exc}. The HTML shows the figures "
                        "interactively instead; brief.md has none.")
        else:
            note = "PNG/SVG figures were skipped (--no-images)."
        if note:
            log(f"herdtrap brief: {note}")
        git = batch.manifest.get("git") or git_commit()
        content = BriefContent(
            title=title or (f"herdtrap policy brief: {frontier[0].name} (designs at equal "
                            "budgets)" if frontier is not None else
                            f"herdtrap policy brief: {', '.join(batch.scenarios)}"),
            date=now_iso(),
            batch=batch,
            findings=findings,
            figures=figures,
            figure_note=note,
            reproduce=reproduce_command(batch),
            commit=str(git.get("commit", "unknown")),
            dirty=git.get("dirty"),
            version=herdtrap_version(batch),
            warnings=scenario_file_warnings(batch),
            distribution=dist,
            frontier=frontier,
            scorecard=trigger_scorecard(batch),
        )
        findings.to_csv(tmp / "findings.csv", index=False, lineterminator="\n")
        if dist is not None:
            dist.table.to_csv(tmp / "distribution.csv", index=False, lineterminator="\n")
        _write_text(tmp / "brief.md", render_markdown(content))
        _write_text(tmp / "brief.html", render_html(content, tmp, figs))
        _normal_permissions(tmp)
        old = None
        if target.exists():
            old = batch.path / f".brief.old.{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="batch folder written by `herdtrap batch`")
    parser.add_argument("--baseline", default=None,
                        help="scenario the others are compared with (default: 'status_quo' if "
                             "present, else 'baseline', else the batch's first scenario)")
    parser.add_argument("--title", default=None, help="title of the brief")
    parser.add_argument("--scenarios", nargs="+", default=None, metavar="NAME",
                        help="report only these scenarios of the batch (and the baseline)")
    parser.add_argument("--no-images", action="store_true",
                        help="skip the PNG/SVG export (no Chromium needed; faster)")


def main(args: argparse.Namespace) -> int:
    from experiments.errors import UsageError

    try:
        target = write_brief(args.dir, baseline=args.baseline, title=args.title,
                             images=not args.no_images, scenarios=args.scenarios)
    except BriefError as exc:
        raise UsageError(str(exc)) from None
    findings = pd.read_csv(target / "findings.csv")
    n_fig = len(list((target / "figures").glob("*.png")))
    print(f"herdtrap brief: {len(findings)} findings, {n_fig} figures (PNG+SVG) -> {target}/ "
          "(brief.html, brief.md, findings.csv, figures/)")
    horizon = findings["horizon_year"].max() if len(findings) else None
    for s in findings.loc[(findings["horizon_year"] == horizon)
                          & (findings["outcome"] == "poverty_headcount"), "sentence"]:
        print(f"  - {s}")
    return 0
