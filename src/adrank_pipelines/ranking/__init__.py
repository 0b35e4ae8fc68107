"""Ranking: score retrieved candidates with the CTR models and order them by a multi-objective score."""
