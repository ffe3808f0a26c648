"""Local runs: each target's built bundle in its real local runtime (node hosts in functions/local/)."""
