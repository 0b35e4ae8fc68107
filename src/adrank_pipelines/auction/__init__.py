"""Ad auctions and their counterfactual evaluation (no Kedro imports).

Vectorised mechanisms (second price with quality score, GSP, VCG, first price with shading, reserve
and quality floors), budget pacing, the time-ordered replay of an evaluation day, its outcome
metrics and the A/B experiment. Modules are imported directly (``adrank_pipelines.auction.<module>``).
"""
