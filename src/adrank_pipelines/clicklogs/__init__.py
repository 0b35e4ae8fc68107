"""Click logs in delimited text (Avazu CSV, Criteo TSV, or a user's own): a validating reader, the
column mapping that turns a file's columns into the project's roles, the log's data contract, its
splits and model inputs, and evaluation without a ground truth. No Kedro in here."""
