"""`herdtrap discover DIR --outcome NAME --threshold X`: scenario discovery with PRIM.

Under which conditions is an outcome bad? PRIM (Friedman & Fisher 1999, the
patient rule induction method; Bryant & Lempert 2010 for scenario discovery)
peels the input space down to boxes — ranges of a few inputs — that hold many
of the bad cases (coverage = share of all bad cases inside the box) and few
others (density = share of the cases inside the box that are bad). We use
``ema_workbench.analysis.prim.Prim`` (the EMA Workbench, an optional extra:
``pip install 'herdtrap[discovery]'`` or ``pip install ema_workbench``).

Inputs (x) and the outcome (y) come from a results folder:

* a sensitivity folder (`herdtrap sensitivity`): x = the sampled parameters
  (sample.parquet), y = the outcome per sample row, mean over its replicates
  (outcomes.parquet) — the same number the indices decompose;
* a batch folder (`herdtrap batch`): batches have few distinct parameter
  points, so x = per run: the scenario (categorical ``policy_scenario``), every
  scenario parameter or policy lever that differs between the batch's
  scenarios, and the run's weather, summarised from timeseries.parquet
  (``dzud_winters``: years whose stock loss, averaged over the simulated
  aimags, is at least ``--dzud-loss``; ``first_dzud_year``; ``worst_winter_loss``;
  ``mean_winter_loss``); y = the run's outcome (runs.parquet).

A case is bad when its outcome is above ``--threshold`` (``--above``, the
default for outcomes where less is better) or below it (``--below``, the
default for outcomes where more is better, e.g. herding_share_final).

Box choice: PRIM's peeling trajectory runs from the whole space (coverage 1,
density = base rate) to small, dense boxes. We select, on each trajectory,
the densest box whose coverage is at least ``--min-coverage`` (default 0.5).
After a box is found its cases are removed and PRIM looks for the next one
(up to ``--boxes``; it stops when a box is no denser than the base rate).

Writes ``DIR/discovery/``: boxes.csv (one row per box × restricted input:
limits, the input's full range, quasi-p value; and the box's coverage, density,
mass, cases), trajectory.csv (every box on every peeling trajectory),
peeling_trajectory.html (coverage vs. density, plotly inline), discovery.json
(settings and results). Analyses read results; they never re-run the model.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import argtypes
from experiments.errors import UsageError
from experiments.report.provenance import (
    atomic_write_bytes,
    atomic_write_json,
    check_output_folder,
    command_line,
    now_iso,
    read_results_manifest,
    read_results_table,
)

#: Stock loss (share of SFU, aimag mean) from which a winter counts as a dzud [est]:
#: ordinary winters lose 2-6% in NSO 1992-2024 aimag data, dzud winters 10-40%.
DZUD_LOSS = 0.10
MIN_COVERAGE = 0.5
MAX_BOXES = 2
OUT = "discovery"


class DiscoveryError(UsageError):
    """Bad input for scenario discovery (one line, exit code 2)."""


def _prim_module() -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ema_workbench warns about optional ipyparallel
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoveryError(
            "scenario discovery needs the EMA Workbench (optional extra): "
            "pip install ema_workbench   (or pip install 'herdtrap[discovery]')"
        ) from None
    import logging

    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim


# ---------------------------------------------------------------------------- inputs


@dataclass
class DiscoveryData:
    """x (inputs, one row per case), y (the outcome), and what they are."""

    x: pd.DataFrame
    y: np.ndarray
    kind: str  # "sensitivity" or "batch"
    outcome: str
    unit_of_case: str


def _choose_outcome(available: Sequence[str], outcome: str, folder: Path) -> None:
    if outcome not in available:
        raise DiscoveryError(f"{folder}: no outcome {outcome!r}; available: "
                             f"{', '.join(available)}")


def sensitivity_data(folder: Path, outcome: str) -> DiscoveryData:
    """x = sampled parameters, y = the outcome per sample row (mean over replicates)."""
    for name in ("sample.parquet", "outcomes.parquet"):
        if not (folder / name).exists():
            raise DiscoveryError(f"{folder}: {name} is missing (has the analysis finished? "
                                 "run the same `herdtrap sensitivity` command again)")
    redo = "run the `herdtrap sensitivity` command that wrote the folder again"
    sample = read_results_table(folder, "sample.parquet", DiscoveryError, columns=("row",),
                                redo=redo)
    outcomes = read_results_table(folder, "outcomes.parquet", DiscoveryError,
                                  columns=("row",), redo=redo)
    available = [c for c in outcomes.columns if c not in ("row", "replicate")]
    _choose_outcome(available, outcome, folder)
    y = outcomes.groupby("row")[outcome].mean().reindex(sample["row"])
    x = sample.drop(columns="row").reset_index(drop=True)
    keep = y.notna().to_numpy()
    return DiscoveryData(x=x[keep].reset_index(drop=True), y=y.to_numpy(float)[keep],
                         kind="sensitivity", outcome=outcome,
                         unit_of_case="sample row (mean over replicates)")


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def climate_features(ts: pd.DataFrame, dzud_loss: float = DZUD_LOSS) -> pd.DataFrame:
    """Per (scenario, replicate): the weather a run saw, from its yearly stock losses.

    The loss of a year = mean over the simulated aimags of ``mortality_index_<aimag>``
    (share of SFU lost in that winter).
    """
    cols = [c for c in ts.columns if c.startswith("mortality_index_")]
    if not cols:
        raise DiscoveryError("timeseries.parquet has no mortality_index_<aimag> columns")
    df = ts[["scenario", "replicate", "year"]].copy()
    df["loss"] = ts[cols].mean(axis=1).to_numpy()
    df["dzud"] = df["loss"] >= dzud_loss
    g = df.sort_values(["scenario", "replicate", "year"]).groupby(["scenario", "replicate"])
    years = g["year"].transform("min")
    df["year0"] = df["year"] - years + 1
    first = (df[df["dzud"]].groupby(["scenario", "replicate"])["year0"].min())
    out = g.agg(dzud_winters=("dzud", "sum"), worst_winter_loss=("loss", "max"),
                mean_winter_loss=("loss", "mean"), horizon=("year", "size"))
    out["first_dzud_year"] = first.reindex(out.index)
    out["first_dzud_year"] = out["first_dzud_year"].fillna(out["horizon"] + 1).astype("int64")
    out["dzud_winters"] = out["dzud_winters"].astype("int64")
    return out.drop(columns="horizon").reset_index()


def batch_data(folder: Path, outcome: str, manifest: Mapping[str, Any],
               dzud_loss: float = DZUD_LOSS) -> DiscoveryData:
    """x = scenario, differing parameters and levers, climate summary; y = run outcome."""
    if not (folder / "runs.parquet").exists():
        raise DiscoveryError(f"{folder}: runs.parquet is missing (has the batch finished? run "
                             "the same `herdtrap batch` command again)")
    redo = "run the `herdtrap batch` command that wrote the folder again"
    runs = read_results_table(folder, "runs.parquet", DiscoveryError,
                              columns=("scenario", "replicate", "status"), redo=redo)
    runs = runs[runs["status"] == "ok"].reset_index(drop=True)
    from experiments.run.runner import OUTCOMES

    available = [c for c in runs.columns if c in OUTCOMES or c.startswith("trap_share")]
    _choose_outcome(available, outcome, folder)
    # scenario settings that differ between the batch's scenarios
    resolved = {name: s.get("resolved", {}) for name, s in manifest.get("scenarios", {}).items()}
    flat = {name: {**{f"param.{k}": v for k, v in r.get("params", {}).items()},
                   **{f"policy.{k}": v for k, v in _flat(r.get("policies", {})).items()}}
            for name, r in resolved.items()}
    keys = sorted({k for f in flat.values() for k in f})
    differing = []
    for k in keys:
        values = [flat[n].get(k) for n in flat]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            differing.append(k)
    x = pd.DataFrame({"policy_scenario": runs["scenario"].astype(str)})
    for k in differing:
        col = [flat.get(s, {}).get(k) for s in runs["scenario"]]
        vals = pd.Series(col)
        if all(isinstance(v, bool) or v is None for v in col):
            x[k] = vals.map(lambda v: "unset" if v is None else str(v))
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in col):
            x[k] = vals.astype(float)
        elif all(isinstance(v, int | float) or v is None for v in col):
            x[k] = vals.astype(float).fillna(0.0)  # a lever absent from a scenario = 0
        else:
            x[k] = vals.map(str)
    if (folder / "timeseries.parquet").exists():
        ts = read_results_table(folder, "timeseries.parquet", DiscoveryError,
                                columns=("scenario", "replicate", "year"), redo=redo)
        clim = climate_features(ts, dzud_loss)
        merged = runs[["scenario", "replicate"]].merge(clim, on=["scenario", "replicate"],
                                                       how="left")
        for c in ("dzud_winters", "first_dzud_year", "worst_winter_loss", "mean_winter_loss"):
            x[c] = merged[c].to_numpy()
    if x["policy_scenario"].nunique() < 2:
        x = x.drop(columns="policy_scenario")
    if x.shape[1] == 0:
        raise DiscoveryError(f"{folder}: nothing varies between the runs (one scenario and no "
                             "timeseries.parquet)")
    return DiscoveryData(x=x, y=runs[outcome].to_numpy(float), kind="batch", outcome=outcome,
                         unit_of_case="run")


def load_data(folder: Path, outcome: str, dzud_loss: float = DZUD_LOSS) -> DiscoveryData:
    manifest = read_results_manifest(
        folder, DiscoveryError, give="a folder written by `herdtrap batch` or `herdtrap sensitivity`"
    )
    kind = manifest.get("kind")
    if kind == "sensitivity":
        return sensitivity_data(folder, outcome)
    if kind == "batch":
        return batch_data(folder, outcome, manifest, dzud_loss)
    raise DiscoveryError(f"{folder}: a {kind!r} folder; discovery reads batch or sensitivity "
                         "results")


def default_direction(outcome: str) -> str:
    """"above" if less of the outcome is better (poverty), "below" if more is better."""
    from experiments.run.runner import OUTCOMES

    base = outcome.removeprefix("effect_")
    return "below" if OUTCOMES.get(base) == "max" else "above"


# ---------------------------------------------------------------------------- PRIM


@dataclass
class Box:
    """One PRIM box at its selected point on the peeling trajectory."""

    number: int
    coverage: float
    density: float
    mass: float
    n: int  # cases in the box
    k: int  # bad cases in the box
    limits: pd.DataFrame  # restricted inputs: input, low, high, (categories), full range, qp
    trajectory: pd.DataFrame
    selected: int


def _select(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """Densest box with coverage >= min_coverage (ties: the larger coverage)."""
    ok = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if ok.empty:
        ok = trajectory.iloc[:1]
    best = ok.sort_values(["density", "coverage"], ascending=[False, False], kind="stable")
    return int(best.index[0])


def _limits(box: Any, i: int, prim_obj: Any, x: pd.DataFrame) -> pd.DataFrame:
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    lims = box.box_lims[i]
    init = prim_obj.box_init
    restricted = list(sdutil._determine_restricted_dims(lims, init))
    qp = box.p_values[i] if i < len(box.p_values) else {}
    rows = []
    for name in restricted:
        lo, hi = lims[name].iloc[0], lims[name].iloc[1]
        flo, fhi = init[name].iloc[0], init[name].iloc[1]
        q = [v for v in qp.get(name, []) if v is not None and v >= 0]
        row = {"input": name, "low": np.nan, "high": np.nan, "categories": "",
               "full_low": np.nan, "full_high": np.nan, "full_categories": "",
               "qp": float(max(q)) if q else np.nan}
        if isinstance(lo, set):
            row["categories"] = ", ".join(sorted(map(str, lo)))
            row["full_categories"] = ", ".join(sorted(map(str, flo)))
        else:
            row.update(low=float(lo), high=float(hi), full_low=float(flo), full_high=float(fhi))
        rows.append(row)
    return pd.DataFrame(rows, columns=["input", "low", "high", "categories", "full_low",
                                       "full_high", "full_categories", "qp"])


def find_boxes(x: pd.DataFrame, bad: np.ndarray, *, max_boxes: int = MAX_BOXES,
               min_coverage: float = MIN_COVERAGE, peel_alpha: float = 0.05,
               mass_min: float = 0.05) -> list[Box]:
    """PRIM boxes for the bad cases (deterministic: PRIM has no randomness)."""
    prim = _prim_module()
    bad = np.asarray(bad, dtype=bool)
    x = x.reset_index(drop=True).copy()
    for c in x.columns:
        if not pd.api.types.is_numeric_dtype(x[c]):
            x[c] = x[c].astype(str).astype(object)
        else:
            # integers as floats too: ema_workbench's pasting writes midpoints (1.5) into
            # the box limits, which pandas 3 refuses for an int64 column
            x[c] = x[c].astype("float64")
    base_rate = float(bad.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench's own pandas deprecation warnings
        p = prim.Prim(x, bad.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
    boxes: list[Box] = []
    for number in range(1, max_boxes + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            box = p.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.reset_index(drop=True)
        i = _select(traj, min_coverage)
        box.select(i)
        stats = traj.iloc[i]
        if number > 1 and float(stats["density"]) <= base_rate:
            break
        boxes.append(Box(number=number, coverage=float(stats["coverage"]),
                         density=float(stats["density"]), mass=float(stats["mass"]),
                         n=int(stats["n"]), k=int(stats["k"]),
                         limits=_limits(box, i, p, x), trajectory=traj, selected=i))
        if float(stats["coverage"]) >= 1.0 - 1e-12:
            break
    return boxes


# ---------------------------------------------------------------------------- outputs


def boxes_frame(boxes: Sequence[Box]) -> pd.DataFrame:
    rows = []
    for b in boxes:
        lim = b.limits if len(b.limits) else pd.DataFrame([{"input": ""}])
        for r in lim.to_dict("records"):
            rows.append({"box": b.number, "coverage": b.coverage, "density": b.density,
                         "mass": b.mass, "cases": b.n, "bad_cases": b.k, **r})
    return pd.DataFrame(rows)


def trajectory_frame(boxes: Sequence[Box]) -> pd.DataFrame:
    frames = []
    for b in boxes:
        t = b.trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
        t.insert(0, "box", b.number)
        t["selected"] = t["id"] == b.selected
        frames.append(t)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def trajectory_figure(boxes: Sequence[Box], title: str) -> Any:
    import plotly.graph_objects as go

    from experiments.report.figures import series_style, style_figure

    fig = go.Figure()
    for k, b in enumerate(boxes):
        t = b.trajectory
        colour = series_style(k + 1)["color"]
        fig.add_scatter(x=t["coverage"], y=t["density"], mode="lines+markers",
                        name=f"box {b.number} peeling trajectory",
                        line={"color": colour}, marker={"size": 6},
                        customdata=np.c_[t["res_dim"], t["mass"]],
                        hovertemplate="coverage %{x:.2f}<br>density %{y:.2f}<br>"
                                      "restricted inputs %{customdata[0]:.0f}<br>"
                                      "mass %{customdata[1]:.2f}<extra></extra>")
        fig.add_scatter(x=[b.coverage], y=[b.density], mode="markers",
                        name=f"box {b.number} selected",
                        marker={"color": colour, "size": 16, "symbol": "star",
                                "line": {"color": "black", "width": 1}})
    fig.update_xaxes(title_text="coverage (share of bad cases inside the box)", range=[0, 1.02])
    fig.update_yaxes(title_text="density (share of cases in the box that are bad)",
                     range=[0, 1.02])
    return style_figure(fig, title=title)


def describe(boxes: Sequence[Box], data: DiscoveryData, direction: str, threshold: float,
             ) -> list[str]:
    bad = int(np.sum(_bad(data.y, direction, threshold)))
    sign = ">" if direction == "above" else "<"
    lines = [f"{data.outcome} {sign} {threshold:g} in {bad} of {len(data.y)} cases "
             f"({bad / len(data.y):.1%}; a case = one {data.unit_of_case})"]
    for b in boxes:
        lines.append(f"box {b.number}: coverage {b.coverage:.2f}, density {b.density:.2f}, "
                     f"mass {b.mass:.2f} ({b.k} of {b.n} cases bad)")
        if not len(b.limits):
            lines.append("    (no restriction: the bad cases are spread over the whole space)")
        for r in b.limits.itertuples():
            if r.categories:
                lines.append(f"    {r.input} in {{{r.categories}}}")
            else:
                qp = f"  (qp {r.qp:.2g})" if np.isfinite(r.qp) else ""
                lines.append(f"    {r.low:.4g} <= {r.input} <= {r.high:.4g}   "
                             f"(full range {r.full_low:.4g} .. {r.full_high:.4g}){qp}")
    return lines


def _bad(y: np.ndarray, direction: str, threshold: float) -> np.ndarray:
    return y > threshold if direction == "above" else y < threshold


# ---------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, metavar="DIR",
                        help="a results folder of `herdtrap sensitivity` or `herdtrap batch`")
    parser.add_argument("--outcome", required=True,
                        help="outcome column, e.g. poverty_headcount_final")
    parser.add_argument("--threshold", type=argtypes.finite, required=True,
                        help="a case is bad when its outcome is beyond this value")
    side = parser.add_mutually_exclusive_group()
    side.add_argument("--above", dest="direction", action="store_const", const="above",
                      help="bad = outcome > threshold (default when less is better)")
    side.add_argument("--below", dest="direction", action="store_const", const="below",
                      help="bad = outcome < threshold (default when more is better)")
    parser.add_argument("--boxes", type=argtypes.int_range(1, 100), default=MAX_BOXES,
                        help=f"at most this many boxes (default {MAX_BOXES})")
    parser.add_argument("--min-coverage", type=argtypes.float_range(0, 1, low_open=True),
                        default=MIN_COVERAGE,
                        help="choose the densest box with at least this coverage "
                             f"(default {MIN_COVERAGE})")
    parser.add_argument("--peel-alpha", type=argtypes.float_range(0, 0.5, low_open=True, high_open=True),
                        default=0.05,
                        help="share of cases peeled per step (default 0.05)")
    parser.add_argument("--mass-min", type=argtypes.float_range(0, 1, low_open=True, high_open=True),
                        default=0.05,
                        help="smallest box, as a share of all cases (default 0.05)")
    parser.add_argument("--dzud-loss", type=argtypes.float_range(0, 1, low_open=True, high_open=True),
                        default=DZUD_LOSS,
                        help=f"batch folders: a winter with at least this stock loss is a dzud "
                             f"(default {DZUD_LOSS})")


def run_discovery(folder: Path, outcome: str, threshold: float, *, direction: str | None = None,
                  max_boxes: int = MAX_BOXES, min_coverage: float = MIN_COVERAGE,
                  peel_alpha: float = 0.05, mass_min: float = 0.05,
                  dzud_loss: float = DZUD_LOSS) -> tuple[list[Box], DiscoveryData, str]:
    """Find the boxes and write ``folder/discovery/``; returns (boxes, data, direction)."""
    if max_boxes < 1:
        raise DiscoveryError(f"--boxes must be at least 1, got {max_boxes}")
    if not 0 < min_coverage <= 1:
        raise DiscoveryError(f"--min-coverage must be in (0, 1], got {min_coverage}")
    if not 0 < peel_alpha < 0.5:
        raise DiscoveryError(f"--peel-alpha must be in (0, 0.5), got {peel_alpha}")
    if not 0 < mass_min < 1:
        raise DiscoveryError(f"--mass-min must be in (0, 1), got {mass_min}")
    if not np.isfinite(threshold):
        raise DiscoveryError(f"--threshold must be a finite number, got {threshold}")
    if not 0 < dzud_loss < 1:
        raise DiscoveryError(f"--dzud-loss must be a stock loss share in (0, 1), got {dzud_loss}")
    _prim_module()  # clear message early if the extra is missing
    data = load_data(folder, outcome, dzud_loss)
    check_output_folder(Path(folder) / OUT, DiscoveryError)
    direction = direction or default_direction(outcome)
    bad = _bad(data.y, direction, threshold)
    sign = ">" if direction == "above" else "<"
    if not bad.any() or bad.all():
        what = "no" if not bad.any() else "every"
        raise DiscoveryError(
            f"{what} case has {outcome} {sign} {threshold:g} (range {np.min(data.y):.4g} .. "
            f"{np.max(data.y):.4g} over {len(data.y)} cases); choose a threshold inside the range"
        )
    boxes = find_boxes(data.x, bad, max_boxes=max_boxes, min_coverage=min_coverage,
                       peel_alpha=peel_alpha, mass_min=mass_min)
    out = folder / OUT
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "boxes.csv",
                       boxes_frame(boxes).to_csv(index=False, float_format="%.6g").encode())
    atomic_write_bytes(out / "trajectory.csv",
                       trajectory_frame(boxes).to_csv(index=False, float_format="%.6g").encode())
    title = f"PRIM peeling trajectory: {outcome} {sign} {threshold:g}"
    fig = trajectory_figure(boxes, title)
    page = fig.to_html(full_html=True, include_plotlyjs=True, config={"displaylogo": False})
    atomic_write_bytes(out / "peeling_trajectory.html", page.encode("utf-8"))
    atomic_write_json(out / "discovery.json", {
        "kind": "discovery", "command": command_line(), "created": now_iso(),
        "source_kind": data.kind, "outcome": outcome, "threshold": threshold,
        "direction": direction, "cases": len(data.y), "bad_cases": int(bad.sum()),
        "case": data.unit_of_case, "inputs": list(data.x.columns),
        "settings": {"max_boxes": max_boxes, "min_coverage": min_coverage,
                     "peel_alpha": peel_alpha, "mass_min": mass_min,
                     "dzud_loss": dzud_loss if data.kind == "batch" else None},
        "boxes": [{"box": b.number, "coverage": b.coverage, "density": b.density,
                   "mass": b.mass, "cases": b.n, "bad_cases": b.k,
                   "limits": b.limits.replace({np.nan: None}).to_dict("records")}
                  for b in boxes],
    })
    return boxes, data, direction


def main(args: argparse.Namespace) -> int:
    boxes, data, direction = run_discovery(
        args.folder, args.outcome, args.threshold, direction=args.direction,
        max_boxes=args.boxes, min_coverage=args.min_coverage, peel_alpha=args.peel_alpha,
        mass_min=args.mass_min, dzud_loss=args.dzud_loss,
    )
    print(f"herdtrap discover: {args.folder} ({data.kind}), {len(data.x.columns)} inputs")
    print("\n".join(describe(boxes, data, direction, args.threshold)))
    print(f"wrote {args.folder / OUT}/ (boxes.csv, trajectory.csv, peeling_trajectory.html, "
          "discovery.json)")
    return 0
