"""The error the library raises for bad user input.

Library code (analyses, reports, execution) raises :class:`UsageError` (or its own
domain errors: ``model.scenario.ScenarioError``, ``model.parameters.ParameterError``,
``experiments.report.brief_compute.BriefError`` ...) with a one-line message. Only the command line
(``experiments/cli.py``) turns an error into a printed line and exit code 2.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: printed as one line by the command line, exit code 2."""
