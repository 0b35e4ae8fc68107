"""Models: torch CTR models (transformer with text and sequence towers, field-attention fallback),
the LightGBM ranker, calibration and metrics. No Kedro import here: pipelines wrap these functions.
"""
