"""Yearly policy metrics: coverage, beneficiaries, children reached, payments and
the insurer's premiums, payouts and loss ratio.

``model.metrics.year_metrics`` calls :func:`policy_metrics` at the end of each
winter (before ``policies.end_year`` resets the policies' yearly counters).
Columns appear only for the scenario's active policies, so a baseline run's
table is unchanged. Per policy ``<p>``:

* ``beneficiaries_<p>`` — distinct households paid this year;
* ``payments_<p>`` — kMNT paid to households this year;
* ``coverage_<p>`` — share of the relevant households reached, enrolled or
  insured (defined by each policy, see docs/POLICIES.md);
* policy-specific columns (children reached, insurer premiums and payouts ...).

Plus ``policy_payments`` (kMNT paid to households by all policies this year).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def policy_metrics(model: HerdtrapModel) -> dict[str, Any]:
    """Policy columns of the current year's metrics row (empty without policies)."""
    policies = getattr(model, "policies", None)
    active = getattr(policies, "active", [])
    if not active:
        return {}
    row: dict[str, Any] = {}
    total = 0.0
    for policy in active:
        metrics = getattr(policy, "metrics", None)
        if metrics is None:
            continue
        values = metrics(model)
        row.update(values)
        total += float(values.get(f"payments_{policy.name}", 0.0))
    row["policy_payments"] = total
    return row
