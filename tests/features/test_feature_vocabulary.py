import json

import pandas as pd

from adrank_pipelines.features.vocabulary import (
    OOV_INDEX,
    Vocabulary,
    encode_columns,
    fit_vocabulary,
    vocabularies_from_json,
    vocabularies_to_json,
)


def test_known_values_are_ordered_by_count_then_value():
    vocabulary = fit_vocabulary(pd.Series(["b", "a", "c", "c", "b", "a", "c"]), min_count=1)
    assert vocabulary.values == ("c", "a", "b")  # noqa: PD011 - not a pandas object
    assert vocabulary.size == 5  # padding + OOV + 3 values


def test_rare_unseen_and_missing_values_map_to_oov_and_zero_is_never_used():
    vocabulary = fit_vocabulary(pd.Series(["x", "x", "y", "z", "z", "z"]), min_count=2)
    assert vocabulary.values == ("z", "x")  # noqa: PD011 - not a pandas object
    encoded = vocabulary.encode(pd.Series(["z", "x", "y", "never-seen", None], dtype="str"))
    assert encoded.tolist() == [2, 3, OOV_INDEX, OOV_INDEX, OOV_INDEX]
    assert encoded.dtype == "int32"


def test_integer_columns_encode_through_a_json_round_trip():
    vocabularies = {"ad_id": fit_vocabulary(pd.Series([7, 7, 3, 3, 3, 11]), min_count=1)}
    restored = vocabularies_from_json(json.loads(json.dumps(vocabularies_to_json(vocabularies))))
    assert restored == vocabularies
    encoded = encode_columns(pd.DataFrame({"ad_id": [3, 7, 11, 99]}), restored)
    assert encoded["ad_id_idx"].tolist() == [2, 3, 4, OOV_INDEX]


def test_an_empty_vocabulary_encodes_everything_as_oov():
    assert Vocabulary(values=()).encode(pd.Series(["a", "b"])).tolist() == [OOV_INDEX, OOV_INDEX]
