"""The typed validation parameters, and that the conf files satisfy them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf
from pydantic import ValidationError

from adrank_pipelines.schemas.settings import ContractReportSettings, ImpressionSuiteThresholds

CONF = Path(__file__).resolve().parents[2] / "conf"


def _validate_parameters(*envs: str) -> dict:
    layers = [yaml.safe_load((CONF / env / "parameters_validate.yml").read_text())["validate"] for env in envs]
    # The project soft-merges parameters of an environment over base (settings.py).
    return OmegaConf.to_container(OmegaConf.merge(*layers))


@pytest.mark.parametrize("envs", [("base",), ("base", "test")], ids=["base", "test"])
def test_conf_parameters_fit_the_models(envs: tuple[str, ...]) -> None:
    parameters = _validate_parameters(*envs)
    ImpressionSuiteThresholds.model_validate(parameters["impression_suite"])
    ContractReportSettings.model_validate(parameters["report"])


def test_inverted_band_is_rejected_with_its_name() -> None:
    parameters = _validate_parameters("base")["impression_suite"]
    parameters["ctr"] = {"min": 0.3, "max": 0.1}
    with pytest.raises(ValidationError, match=r"ctr\n.*min \(0.3\) must not exceed max \(0.1\)"):
        ImpressionSuiteThresholds.model_validate(parameters)


def test_unknown_key_is_rejected() -> None:
    parameters = _validate_parameters("base")["impression_suite"]
    parameters["ctr_band"] = parameters.pop("ctr")
    with pytest.raises(ValidationError, match="ctr_band"):
        ImpressionSuiteThresholds.model_validate(parameters)
