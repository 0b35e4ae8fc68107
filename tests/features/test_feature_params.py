import pytest
from pydantic import ValidationError

from adrank_pipelines.features.params import DriftWindow, SequenceParams, TargetStatParams, VocabularyParams


def test_misspelt_keys_fail_instead_of_falling_back_to_defaults():
    with pytest.raises(ValidationError, match="sequence_lenght"):
        SequenceParams.model_validate({"sequence_lenght": 5})


def test_the_ad_vocabularies_cannot_be_dropped():
    with pytest.raises(ValidationError, match=r"must include \['ad_id'\]"):
        VocabularyParams(columns=["advertiser_id", "category"])


def test_target_stat_keys_need_a_column_and_the_prior_is_a_probability():
    with pytest.raises(ValidationError, match="keys"):
        TargetStatParams(keys=[["ad_id"], []])
    with pytest.raises(ValidationError, match="initial_prior_ctr"):
        TargetStatParams(initial_prior_ctr=1.5)


def test_a_disabled_drift_window_has_no_days_and_extra_simulator_keys_are_ignored():
    assert DriftWindow.model_validate({"enabled": False, "n_days": 3, "interest_multiplier": 2.0}).days == 0
    assert DriftWindow.model_validate({"enabled": True, "n_days": 3}).days == 3
