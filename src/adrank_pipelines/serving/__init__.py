"""The online state of the ad-serving service (no Kedro imports).

Two stores, each with an embedded implementation (no server) and a Redis implementation, chosen by
``serving.state.backend`` (``OnlineStateParams``): the budget ledger (``budget_ledger.py``: per
advertiser spend, charged atomically against its daily budget) and the user profile store
(``user_profiles.py``: each user's most recent events and impression / click counters).
``state.open_state`` opens both. Modules are imported directly (``adrank_pipelines.serving.<module>``).
"""
