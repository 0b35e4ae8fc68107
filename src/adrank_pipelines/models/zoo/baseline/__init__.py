"""The simple baseline: a logistic regression on the ad's past-only CTR and the slot (AUC_base of the report)."""
