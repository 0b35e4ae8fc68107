"""The model lifecycle: registry versions and aliases, promotion gates, rollout and rollback rules, and the
scenario that plays them over simulated days.

Gates and rollout are pure decisions over evidence (no Kedro); the registry talks to MLflow at the URI it is
given; the scenario serves, retrains and judges on a simulated world.
"""
