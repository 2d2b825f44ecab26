"""Analyses that run or read the model: here so far ``budget`` (equal-cost policy
levers). The others (compare, trap, sensitivity, discovery, resilience, hindcast,
calibrate, validate) move here with the layout of issue 14."""
