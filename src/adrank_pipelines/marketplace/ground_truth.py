"""The ground-truth click and conversion model of the simulated world.

The simulator draws labels from these probabilities, and evaluation code rebuilds the same model
from the ground-truth catalog entries (``truth_users``, ``truth_ads``, ``truth_world``) to score
any user x ad x context counterfactually. Nothing here may feed a training node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.marketplace.vocabulary import ALL_CATEGORIES, OFFER_KINDS

# Relative interest below 1/20 of uniform adds nothing more: a floor keeps logits finite.
_RELATIVE_INTEREST_BOUNDS = (np.log(0.05), np.log(12.0))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return probabilities


@dataclass(frozen=True)
class Context:
    """Where and when an ad is shown, one entry per (user, ad) pair being scored."""

    position: np.ndarray
    hour: np.ndarray
    day: np.ndarray
    placement: np.ndarray
    platform: np.ndarray


class GroundTruth:
    """True pCTR and pCVR for any user x ad x context, built from the ground-truth tables."""

    def __init__(self, truth_users: pd.DataFrame, truth_ads: pd.DataFrame, world: dict[str, Any]) -> None:
        self._world = world
        self._user_row = pd.Series(np.arange(len(truth_users)), index=truth_users["user_id"].to_numpy())
        self._ad_row = pd.Series(np.arange(len(truth_ads)), index=truth_ads["ad_id"].to_numpy())
        self._interest = truth_users[[f"interest_{c}" for c in ALL_CATEGORIES]].to_numpy()
        taste_columns = [c for c in truth_users.columns if c.startswith("taste_")]
        self._taste = truth_users[taste_columns].to_numpy()
        self._propensity = truth_users["propensity"].to_numpy()
        self._conversion_propensity = truth_users["conversion_propensity"].to_numpy()
        self._price_sensitivity = truth_users["price_sensitivity"].to_numpy()
        self._ad_category = truth_ads["theme_index"].to_numpy() // 4
        theme_embeddings = np.asarray(world["theme_embeddings"])
        self._ad_theme = theme_embeddings[truth_ads["theme_index"].to_numpy()]
        self._quality = truth_ads["quality"].to_numpy()
        self._landing_quality = truth_ads["landing_quality"].to_numpy()
        offer_kind = pd.Categorical(truth_ads["offer_kind"], categories=list(OFFER_KINDS)).codes
        self._offer_click = np.asarray([world["offer_click_effects"][k] for k in OFFER_KINDS])[offer_kind]
        self._offer_conversion = np.asarray([world["offer_conversion_effects"][k] for k in OFFER_KINDS])[offer_kind]
        self._drift_multipliers = np.array([world["drift"]["interest_multipliers"].get(c, 1.0) for c in ALL_CATEGORIES])

    def _rows(self, user_id: np.ndarray, ad_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._user_row.loc[user_id].to_numpy(), self._ad_row.loc[ad_id].to_numpy()

    def interests(self, user_rows: np.ndarray, day: np.ndarray) -> np.ndarray:
        """User interests on each day: inside the drift window some categories gain weight."""
        interest: np.ndarray = self._interest[user_rows]
        drift_start = self._world["drift"]["start_day"]
        if drift_start is None:
            return interest
        day = np.asarray(day)
        in_window = (day >= drift_start)[:, None]
        multipliers = self._drift_multipliers
        ramp_days = self._world["drift"].get("ramp_days", 1)
        if ramp_days > 1:
            # A growing drift: day k of the window applies (k + 1) / ramp_days of each multiplier's change.
            strength = np.clip((day - drift_start + 1) / ramp_days, 0.0, 1.0)[:, None]
            multipliers = 1.0 + (multipliers - 1.0) * strength
        shifted = interest * multipliers
        shifted /= shifted.sum(axis=1, keepdims=True)
        drifted: np.ndarray = np.where(in_window, shifted, interest)
        return drifted

    def _relative_interest(self, user_rows: np.ndarray, ad_rows: np.ndarray, day: np.ndarray) -> np.ndarray:
        interest = self.interests(user_rows, day)[np.arange(len(user_rows)), self._ad_category[ad_rows]]
        relative: np.ndarray = np.clip(np.log(interest * len(ALL_CATEGORIES)), *_RELATIVE_INTEREST_BOUNDS)
        return relative

    def _taste_match(self, user_rows: np.ndarray, ad_rows: np.ndarray) -> np.ndarray:
        dims = self._taste.shape[1]
        match: np.ndarray = np.einsum("ij,ij->i", self._taste[user_rows], self._ad_theme[ad_rows]) / np.sqrt(dims)
        return match

    def click_logit_components(self, user_id: np.ndarray, ad_id: np.ndarray, context: Context) -> dict[str, np.ndarray]:
        """The additive terms of the true click logit, by name; their sum is the logit."""
        users, ads = self._rows(user_id, ad_id)
        model = self._world["click_model"]
        offer = self._offer_click[ads]
        placement_effect = pd.Series(self._world["placement_click_effects"]).loc[context.placement].to_numpy()
        platform_category = self._world["platform_category_effects"]
        platform_effect = np.array([platform_category[p] for p in self._world["platforms"]])
        platform_code = pd.Categorical(context.platform, categories=self._world["platforms"]).codes
        intercept = np.full(len(users), float(model["intercept"]))
        return {
            "intercept": intercept,
            "interest": model["interest_weight"] * self._relative_interest(users, ads, context.day),
            "taste": model["taste_weight"] * self._taste_match(users, ads),
            "offer": model["offer_weight"] * (offer[:, 0] + offer[:, 1] * self._price_sensitivity[users]),
            "quality": self._quality[ads],
            "propensity": self._propensity[users],
            "position": -model["position_decay"] * np.log(np.asarray(context.position, dtype=float)),
            "hour": model["hour_amplitude"] * np.cos(2 * np.pi * (np.asarray(context.hour) - 20) / 24),
            "placement": placement_effect,
            "platform_category": platform_effect[platform_code, self._ad_category[ads]],
        }

    def click_probability(self, user_id: np.ndarray, ad_id: np.ndarray, context: Context) -> np.ndarray:
        return _sigmoid(np.asarray(sum(self.click_logit_components(user_id, ad_id, context).values())))

    def conversion_probability(self, user_id: np.ndarray, ad_id: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Probability of a conversion given a click."""
        users, ads = self._rows(user_id, ad_id)
        model = self._world["conversion_model"]
        offer = self._offer_conversion[ads]
        logit = (
            model["intercept"]
            + model["interest_weight"] * self._relative_interest(users, ads, day)
            + self._landing_quality[ads]
            + self._conversion_propensity[users]
            + model["offer_weight"] * (offer[:, 0] + offer[:, 1] * self._price_sensitivity[users])
        )
        return _sigmoid(logit)
