"""LightGBM on the feature groups of the tabular model inputs, early-stopped on the validation day."""
