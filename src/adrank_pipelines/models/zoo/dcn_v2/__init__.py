"""DCN-v2: explicit cross layers and a deep MLP over field embeddings (Wang et al. 2021)."""
