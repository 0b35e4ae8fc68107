"""Custom Kedro datasets the catalog needs (the only place besides pipelines/ that imports Kedro)."""
