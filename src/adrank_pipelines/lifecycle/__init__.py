"""The model lifecycle: registry versions and aliases, promotion gates, rollout and rollback rules.

Pure decisions over evidence (no Kedro); the registry talks to MLflow at the URI it is given.
"""
