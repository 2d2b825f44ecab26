"""herdtrap's browser app (Solara + Mesa's SolaraViz); start it with `herdtrap app`
(:mod:`experiments.webapp.app`).

Three pages (Solara routes, :mod:`experiments.webapp.pages`):

* ``/`` Explore - SolaraViz around the model: seed, region, years, climate,
  key parameters and policies; Play / Step / Reset (one step = one season);
  live views of poverty, herd sizes, soums, livestock, one household, fiscal cost.
* ``/side-by-side`` - two policy settings with the same seed, stepped together.
* ``/results`` - browse a finished batch or sensitivity folder.

The app holds no model logic: it builds ``HerdtrapModel`` from the controls
(:mod:`experiments.webapp.appmodel`) and plots what the model reports
(:mod:`experiments.webapp.figures`).

The pages are imported on first use (``from experiments.webapp import routes``,
``solara run experiments.webapp:Page``), not with the package: `herdtrap app` and
`herdtrap --help` import ``experiments.webapp.app`` without loading Solara.
"""

from __future__ import annotations

import importlib

__all__ = ["ComparePage", "ExplorePage", "Layout", "Page", "ResultsPage", "routes"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("experiments.webapp.pages"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
