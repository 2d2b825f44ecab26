"""A toy herd model whose true parameters are known: the fit's coverage test.

The yearly log growth of a herd, g_t = log(H_t / H_t−1), is drawn independently from
N(μ, σ²) for T years: μ the net growth (births less offtake and losses), σ the
year-to-year variation that winters bring. The statistics are the mean and the
standard deviation of the T growth rates, sufficient for (μ, σ), so the ABC posterior
tends to the exact Bayesian posterior as the tolerance shrinks and its 90% intervals
should hold a truth drawn from the prior about 90% of the time. herdtrap itself is too
slow to fit dozens of times in a test; the machinery (:func:`experiments.analysis.fit.run_fit`
with ``simulator=``) is the same.
"""

from __future__ import annotations

import numpy as np

PRIOR = {"mu": (0.0, 0.1), "sigma": (0.05, 0.25)}


class ToyHerd:
    """parameters {"mu", "sigma"} -> {"mean", "sd"} of ``years`` simulated growth rates."""

    __name__ = "toy_herd"

    def __init__(self, years: int = 30) -> None:
        self.years = years
        mid = 0.5 * sum(PRIOR["sigma"])
        # σ of each statistic at the prior's middle: the distance's scale
        self.sd = {"mean": mid / np.sqrt(years), "sd": mid / np.sqrt(2.0 * (years - 1))}

    def simulate(self, mu: float, sigma: float, rng: np.random.Generator) -> dict[str, float]:
        g = rng.normal(mu, sigma, self.years)
        return {"mean": float(g.mean()), "sd": float(g.std(ddof=1))}

    def __call__(self, parameters) -> dict[str, float]:
        # pyabc seeds numpy's global generator (run_fit: spec.seed)
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002
        return self.simulate(float(parameters["mu"]), float(parameters["sigma"]),
                             np.random.default_rng(seed))
