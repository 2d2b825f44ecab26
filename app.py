"""herdtrap browser app: `solara run app.py` (or `herdtrap app`) from the repository root.

Opens on http://localhost:8765 with three pages: Explore (Mesa SolaraViz, one
step = one season), Side by side (two policies, same seed) and Results
(browse a batch or sensitivity folder). See docs/APP.md.
"""

from experiments.webapp.pages import ComparePage, ExplorePage, Layout, Page, ResultsPage, routes

__all__ = ["ComparePage", "ExplorePage", "Layout", "Page", "ResultsPage", "routes"]
