"""`herdtrap run`: one simulation, written to a results folder with its manifest."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from experiments import argtypes
from experiments.report.provenance import (
    atomic_write_json,
    atomic_write_parquet,
    command_line,
    git_commit,
    now_iso,
    nso_data,
    package_versions,
)
from experiments.run.runner import simulate
from model.scenario import load_scenario

SUMMARY_COLUMNS = [
    ("poverty_headcount", "poverty headcount (FGT0)", "{:.1%}"),
    ("poverty_gap", "poverty gap (FGT1)", "{:.3f}"),
    ("asset_poverty", "asset poverty (SFU/person < line)", "{:.1%}"),
    ("herding_share", "households still herding", "{:.1%}"),
    ("exits", "exits this year", "{:.0f}"),
    ("herd_sfu_median", "median herd (SFU)", "{:.0f}"),
    ("herd_gini", "herd Gini", "{:.2f}"),
    ("stock_sfu", "total stock (SFU)", "{:,.0f}"),
    ("policy_payments", "paid to households by policies (kMNT)", "{:,.0f}"),
    ("fiscal_cost", "fiscal cost this year (kMNT)", "{:,.0f}"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario file or name in scenarios/ (default: baseline)")
    parser.add_argument("--seed", type=argtypes.seed, default=0,
                        help="random seed, 0 to 2**63-1 (default 0)")
    parser.add_argument("--years", type=argtypes.int_range(1, 200), default=None,
                        help="override the horizon (1-200)")
    parser.add_argument("--out", type=argtypes.out_folder, default=None,
                        help="output folder (default results/run-<scenario>-seed<N>)")


def summary_table(ts: pd.DataFrame) -> str:
    """A short text table: first year, middle, last year."""
    picks = sorted({0, len(ts) // 2, len(ts) - 1})
    header = f"{'':38s}" + "".join(f"{'year ' + str(int(ts.iloc[i]['year'])):>14s}" for i in picks)
    lines = [header]
    for col, label, fmt in SUMMARY_COLUMNS:
        if col not in ts:
            continue
        lines.append(f"{label:38s}" + "".join(f"{fmt.format(ts.iloc[i][col]):>14s}" for i in picks))
    return "\n".join(lines)


def reach_lines(ts: pd.DataFrame) -> list[str]:
    """Reach of programmes that declare a real-world reference (e.g. the Zavkhan pilot)."""
    last = ts.iloc[-1]
    lines = []
    for col in ts.columns:
        if not col.startswith("pilot_children_"):
            continue
        name = col.removeprefix("pilot_children_")
        lines.append(
            f"reach {name}: {int(last[f'children_reached_total_{name}']):,} simulated children, "
            f"{last[f'children_reached_scaled_{name}']:,.0f} scaled to the region's herder "
            f"households vs {int(last[col]):,} in the real programme "
            f"(ratio {last[f'reach_ratio_{name}']:.2f})"
        )
    return lines


def main(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, **({"years": args.years} if args.years else {}))
    out = args.out or Path("results") / f"run-{scenario.name}-seed{args.seed}"
    started = now_iso()
    t0 = time.perf_counter()
    result = simulate(scenario, args.seed)
    elapsed = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(out / "timeseries.parquet", result.timeseries)
    atomic_write_parquet(out / "households.parquet", result.households)
    atomic_write_parquet(out / "soums.parquet", result.soums)
    atomic_write_parquet(out / "ledger.parquet", result.ledger)
    manifest = {
        "kind": "run",
        "command": command_line(),
        "scenario": scenario.to_dict(),
        "scenario_hash": scenario.hash,
        "seed": args.seed,
        "versions": package_versions(),
        "git": git_commit(),
        "started": started,
        "finished": now_iso(),
        "timings": {**result.timings, "wall_s": elapsed},
        "files": ["timeseries.parquet", "households.parquet", "soums.parquet", "ledger.parquet"],
        "summary": result.summary,
    }
    if nso_data(scenario):
        manifest["nso_data"] = nso_data(scenario)
    atomic_write_json(out / "manifest.json", manifest)
    print(f"herdtrap run: scenario {scenario.name} ({scenario.hash}), seed {args.seed}, "
          f"{scenario.years} years, {int(scenario.params['population.households'])} households")
    print(summary_table(result.timeseries))
    for line in reach_lines(result.timeseries):
        print(line)
    print(f"wrote {out}/ (manifest.json, timeseries.parquet, households.parquet, "
          f"soums.parquet, ledger.parquet) in {elapsed:.2f} s")
    return 0
