"""The online ad service: one request in, retrieval -> features -> scoring -> ranking -> auction out.

``main.py`` builds the FastAPI app (``api.py``) for a project and environment: ``project.py`` reads
the catalog and settings (the only module that imports Kedro), ``artifacts.py`` loads what the
request path needs, ``engine.py`` is the request path over the batch pipelines' own functions,
``history.py`` turns user profiles into behaviour sequences, ``pacing.py`` steps the budget pacing
online. The online state (``state.py``: ``budget_ledger.py``, ``user_profiles.py``) is embedded or
in Redis; ``batching.py`` scores requests that arrive together in one call. Modules are imported
directly (``adrank_pipelines.serving.<module>``).
"""
