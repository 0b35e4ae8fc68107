"""pCTR of candidate rows under each ranking model, and pCVR, with the ctr_training models and calibrators as saved.

Every model is scored through the zoo's one interface, each after the models whose raw pCTR it reads
(the hybrid after LightGBM and the transformer), so a model ranked or read by another is scored once
per batch. Ranked models' pCTR goes through the calibrator ctr_training fitted on the validation day;
pCVR comes from the one model configuration names for it.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.models.calibration import Calibrator, calibrated_pctr
from adrank_pipelines.models.zoo import dependency_order, zoo_model
from adrank_pipelines.models.zoo.interface import SideTables, TrainedModel


@dataclass(frozen=True)
class CandidateScores:
    pctr: dict[str, np.ndarray]  # per ranking model, calibrated, in the rows' order
    pcvr: np.ndarray  # P(conversion | click) of the pCVR model, shared by every ranking model
    seconds: dict[str, float]  # wall time of each scored model's own step


def scoring_order(trained: Mapping[str, TrainedModel]) -> list[str]:
    """The models of ``trained``, each after the models it reads; a model it reads must be among them."""
    return dependency_order(
        trained,
        lambda name: zoo_model(trained[name].zoo).reads(trained[name].model),
        lambda name, upstream: f"model '{name}' reads the pCTR of '{upstream}', which ranking was not given",
    )


def _with_upstream(names: Sequence[str], trained: Mapping[str, TrainedModel]) -> set[str]:
    """``names`` and every model they read, transitively (a name ``trained`` lacks is kept, for the
    caller's error to name)."""
    needed: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            if name in trained:
                pending.extend(zoo_model(trained[name].zoo).reads(trained[name].model))
    return needed


class CandidateScorer:
    """Scores model-input frames of candidates (one ``impression_id`` per row) with the chosen models."""

    def __init__(
        self,
        models: Sequence[str],
        pcvr_model: str,
        trained: Mapping[str, TrainedModel],
        calibrators: Mapping[str, Calibrator],
        side: SideTables,
        text_embeddings: Mapping[str, pd.DataFrame],
    ) -> None:
        """``trained``: at least every ranked model, the pCVR model and the models they read (only those are
        scored); ``calibrators``: one per ranked model; ``text_embeddings``: the cached creative embeddings
        of each model that reads ad text."""
        missing = [name for name in [*models, pcvr_model] if name not in trained] + [
            name for name in models if name not in calibrators
        ]
        if missing:
            raise ValueError(f"ranking lacks the trained model or calibrator of {sorted(set(missing))}")
        if not zoo_model(trained[pcvr_model].zoo).predicts_pcvr:
            raise ValueError(f"ranking.scoring.pcvr_model is '{pcvr_model}', a model without a pCVR head")
        self.models, self.pcvr_model = list(models), pcvr_model
        # Only what these models need is scored per batch: a service loads every tier's models once
        # and gives each tier's scorer all of them.
        needed = _with_upstream([*models, pcvr_model], trained)
        self._trained = {name: model for name, model in trained.items() if name in needed}
        self._calibrators = dict(calibrators)
        self._order = scoring_order(self._trained)
        self._sides = {
            name: zoo_model(model.zoo).side_tables(
                SideTables(side.sequences, side.ad_features, text_embeddings.get(name))
            )
            for name, model in self._trained.items()
        }

    def with_sequences(self, sequences: pd.DataFrame) -> CandidateScorer:
        """The same scorer reading ``sequences`` as the behaviour sequences (a service's live requests)."""
        scorer = copy.copy(self)
        scorer._sides = {
            name: dataclasses.replace(side, sequences=sequences) if side.sequences is not None else side
            for name, side in self._sides.items()
        }
        return scorer

    @property
    def scored_models(self) -> list[str]:
        """Every model scored per batch, in order: the ranked ones and those they read."""
        return list(self._order)

    def score(self, features: pd.DataFrame) -> CandidateScores:
        seconds: dict[str, float] = {}
        raw: dict[str, np.ndarray] = {}
        pcvr: np.ndarray | None = None
        for name in self._order:
            trained = self._trained[name]
            model = zoo_model(trained.zoo)
            started = time.perf_counter()
            upstream = {u: raw[u] for u in model.reads(trained.model)}
            scores = model.predict(trained.model, features, self._sides[name], upstream)
            seconds[name] = time.perf_counter() - started
            raw[name] = scores.pctr
            if name == self.pcvr_model:
                pcvr = scores.pcvr
        if pcvr is None:
            raise ValueError(f"model '{self.pcvr_model}' returned no pCVR")
        pctr = {
            name: calibrated_pctr(self._calibrators[name], raw[name], features, "the candidate features")
            for name in self.models
        }
        return CandidateScores(pctr=pctr, pcvr=pcvr, seconds=seconds)
