"""The Global Control Store: one per cluster (DESIGN.md section 2)."""
