"""The building blocks of the ad-serving service that need no Kedro: its online state and its batching.

Two stores, each with an embedded implementation (no server) and a Redis implementation, chosen by
``serving.state.backend`` (``OnlineStateParams``): the budget ledger (``budget_ledger.py``: per
advertiser spend, charged atomically against its daily budget) and the user profile store
(``user_profiles.py``: each user's most recent events and impression / click counters).
``state.open_state`` opens both. ``batching.py`` scores requests that arrive together in one call
(``BatchingParams``: ``max_batch_size``, ``max_wait_ms``). Modules are imported directly (``adrank_pipelines.serving.<module>``).
"""
