"""Upper limits of counts a user gives on the command line (or in a spec).

A number far beyond any sensible study (``--replicates 1000000000000``) would
otherwise build a task list that fills the memory before the first run, or run
for centuries. Each limit is checked before anything is written, and a value
above it is refused with one line naming the flag and the allowed range (exit
code 2). The limits are generous: a study that needs more splits its work into
several batches (or several folders).

| what | limit | why |
|---|---|---|
| replicates per scenario (`batch`, `demo`, `hindcast`, `validate`, sensitivity specs) | 10,000 | Monte Carlo error of a mean falls as 1/sqrt(R): 10,000 is 100× finer than 1 replicate, far below model uncertainty |
| runs in one batch or sensitivity analysis | 1,000,000 | ~11 days on 2 cores at 1 s per run; the task list and manifest stay in memory |
| parallel workers (`--jobs`) | 1,024 | more local processes than any machine has cores |
| bootstrap draws (`trap --bootstrap`) | 100,000 | CI bounds stop moving long before |

Years (`--years`, `run.years`: 1-200) and households (`population.households`:
10-1,000,000) are limited by the scenario and the parameter table.
"""

from __future__ import annotations

MAX_REPLICATES = 10_000
MAX_RUNS = 1_000_000
MAX_JOBS = 1_024
MAX_BOOTSTRAP = 100_000


def check_limits(*, replicates: int | None = None, runs: int | None = None,
                 jobs: int | None = None, bootstrap: int | None = None,
                 error: type[Exception] = ValueError, replicates_flag: str = "--replicates"
                 ) -> None:
    """Raise ``error`` (one line) for a count above its limit; None values are not checked."""
    if replicates is not None and replicates > MAX_REPLICATES:
        raise error(f"{replicates_flag} {replicates:,} is above the limit of "
                    f"{MAX_REPLICATES:,} replicates; allowed: 1-{MAX_REPLICATES:,} "
                    "(split a larger study into several batches)")
    if runs is not None and runs > MAX_RUNS:
        raise error(f"{runs:,} runs is above the limit of {MAX_RUNS:,} runs in one results "
                    "folder; use fewer scenarios or replicates, or several folders")
    if jobs is not None and jobs > MAX_JOBS:
        raise error(f"--jobs {jobs:,} is above the limit of {MAX_JOBS:,}; allowed: 1-{MAX_JOBS:,} "
                    "or -1 (all cores)")
    if bootstrap is not None and bootstrap > MAX_BOOTSTRAP:
        raise error(f"--bootstrap {bootstrap:,} is above the limit of {MAX_BOOTSTRAP:,} draws; "
                    f"allowed: 1-{MAX_BOOTSTRAP:,}")
