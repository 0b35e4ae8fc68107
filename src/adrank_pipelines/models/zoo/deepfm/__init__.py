"""DeepFM (Guo et al. 2017) over the tabular model inputs: a factorization machine beside a deep MLP."""
