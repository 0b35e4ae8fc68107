"""Monitoring: drift statistics, alert rules and A/B test statistics (no Kedro)."""
