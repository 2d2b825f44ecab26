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


class ToyNine:
    """Nine parameters in [0, 10], nine noisy statistics, two of them mixing a pair of
    parameters (a ridge): as many parameters as the default fit, to check that the
    importance weights of ABC-SMC do not collapse (experiments.analysis.fit)."""

    __name__ = "toy_nine"
    PRIOR = {f"p{i}": (0.0, 10.0) for i in range(9)}

    def __init__(self, noise: float = 0.3) -> None:
        self.noise = noise
        self.sd = {f"s{i}": noise for i in range(9)}

    def simulate(self, theta: dict, rng: np.random.Generator) -> dict[str, float]:
        x = np.array([float(theta[f"p{i}"]) for i in range(9)])
        s = x.copy()
        s[0], s[1] = x[0] + x[1], x[0] - 0.5 * x[1]
        return {f"s{i}": float(s[i] + rng.normal(0.0, self.noise)) for i in range(9)}

    def __call__(self, parameters) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002
        return self.simulate(parameters, np.random.default_rng(seed))
