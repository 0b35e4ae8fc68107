"""Pure feature transforms for CTR models: time-based splits, vocabularies, hashed crosses,
past-only target statistics, behaviour sequences and the feature spec. No Kedro in here."""
