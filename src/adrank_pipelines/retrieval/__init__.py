"""Retrieval: the CTR model's ad and user vectors, FAISS indexes over the ads, eligibility filtering,
and recall / latency / oracle evaluation. No Kedro import here: the indexing pipeline wraps these."""
