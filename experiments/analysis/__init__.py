"""Analyses that run or read the model: comparisons of a batch's scenarios (:mod:`.compare`),
the poverty-trap threshold (:mod:`.trap`), sensitivity analysis (:mod:`.sensitivity`),
scenario discovery (:mod:`.discover`), resilience (:mod:`.resilience`), the hindcast and
calibration against NSO data (:mod:`.hindcast`, :mod:`.calibrate`), docs/VALIDATION.md
(:mod:`.validate` with :mod:`.event_study`, :mod:`.household_checks`,
:mod:`.demography_checks`, :mod:`.policy_effects`) and equal-cost policy levers
(:mod:`.budget`)."""
