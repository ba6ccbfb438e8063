"""Custom integrations (kept as a package so the test harness finds them)."""
