"""Benchmark of `herdtrap batch`: N default runs with 1 worker, then with W workers.

Reports wall time, parallel efficiency (T1 / (W x TW)) and the peak resident
memory of the whole process tree (parent + joblib/loky workers), sampled every
0.1 s with psutil, next to ``getrusage`` figures. Targets (issue 4): 1,000
default runs with 2 workers in <= 5 minutes, >= 80 % efficiency, peak RSS <= 1.5 GB.

    .venv/bin/python benchmarks/bench_batch.py               # 1,000 runs (~10 min in all)
    .venv/bin/python benchmarks/bench_batch.py --runs 100    # quicker

Results of other processes on the machine count against the efficiency: run it
on an otherwise idle machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.run.batch import load_scenarios, run_batch  # noqa: E402


class PeakRSS:
    """Peak summed RSS of this process and all its descendants (sampled)."""

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self._proc = psutil.Process()
        self._psutil = psutil
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        procs = [self._proc]
        try:
            procs += self._proc.children(recursive=True)
        except self._psutil.Error:
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except self._psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def one(scenarios, runs: int, jobs: int, backend: str, folder: Path) -> dict:
    if folder.exists():
        shutil.rmtree(folder)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        report, _ = run_batch(scenarios, runs, folder, backend=backend, jobs=jobs,
                              progress=sys.stderr.isatty())
        wall = time.perf_counter() - t0
    assert report.ok == runs, f"{report.failed} runs failed: {report.failures[:3]}"
    return {"jobs": jobs, "backend": backend, "runs": runs, "wall_s": round(wall, 2),
            "run_s_sum": round(report.run_s, 2), "s_per_run": round(report.run_s / runs, 4),
            "peak_rss_tree_mb": round(mem.peak / 2**20, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="runs (replicates of baseline)")
    ap.add_argument("--workers", type=int, default=2, help="workers of the parallel batch")
    ap.add_argument("--backend", default="loky", choices=("loky", "dask"))
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    scenarios = load_scenarios([args.scenario], None)
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_"))
    print(f"bench_batch: {args.runs} runs of {args.scenario} "
          f"({int(scenarios[0].params['population.households'])} households x "
          f"{scenarios[0].years} years); cores {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    try:
        single = one(scenarios, args.runs, 1, args.backend, tmp / "w1")
        print(f"  1 worker : {single}", flush=True)
        multi = one(scenarios, args.runs, args.workers, args.backend, tmp / f"w{args.workers}")
        print(f"  {args.workers} workers: {multi}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    efficiency = single["wall_s"] / (args.workers * multi["wall_s"])
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "runs": args.runs, "workers": args.workers, "backend": args.backend,
        "wall_1_s": single["wall_s"], "wall_n_s": multi["wall_s"],
        "speedup": round(single["wall_s"] / multi["wall_s"], 2),
        "parallel_efficiency": round(efficiency, 3),
        "peak_rss_tree_mb": max(single["peak_rss_tree_mb"], multi["peak_rss_tree_mb"]),
        "ru_maxrss_self_mb": round(self_max, 1), "ru_maxrss_children_mb": round(child_max, 1),
        "load_average_end": round(os.getloadavg()[0], 2),
    }
    targets = {
        "wall time <= 5 min (scaled to 1,000 runs)":
            multi["wall_s"] * 1000 / args.runs <= 300,
        "parallel efficiency >= 80 %": efficiency >= 0.8,
        "peak RSS <= 1.5 GB": result["peak_rss_tree_mb"] <= 1536,
    }
    print(f"  speedup {result['speedup']}x, parallel efficiency {efficiency:.0%}, "
          f"peak RSS (whole process tree) {result['peak_rss_tree_mb']:.0f} MB "
          f"(getrusage: self {self_max:.0f} MB, largest child {child_max:.0f} MB)")
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    if args.json:
        args.json.write_text(json.dumps({**result, "targets": targets}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
