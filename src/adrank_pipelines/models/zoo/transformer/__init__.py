"""The transformer CTR model: creative text, behaviour sequences, target attention, retrieval towers."""
