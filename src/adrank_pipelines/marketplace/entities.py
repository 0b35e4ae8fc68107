"""Users, advertisers and ads of the simulated world: public tables plus their latent truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.marketplace.config import MarketplaceConfig
from adrank_pipelines.marketplace.creatives import brand_names, write_creatives
from adrank_pipelines.marketplace.vocabulary import (
    ALL_CATEGORIES,
    BASE_CATEGORIES,
    DRIFT_CATEGORY,
    OFFERS,
    THEME_NAMES,
)


@dataclass(frozen=True)
class Entities:
    users: pd.DataFrame
    advertisers: pd.DataFrame
    ads: pd.DataFrame
    truth_users: pd.DataFrame
    truth_ads: pd.DataFrame
    theme_embeddings: np.ndarray


def _choice(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    weights = np.array(list(shares.values()), dtype=float)
    return names[rng.choice(len(names), size=size, p=weights / weights.sum())]


def _interests(rng: np.random.Generator, config: MarketplaceConfig, country: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Dirichlet interests whose base measure leans by country and age, so demographics carry signal."""
    n_categories = len(ALL_CATEGORIES)
    country_tilt = rng.lognormal(0.0, 0.5, (len(config.countries), n_categories))
    age_tilt = rng.lognormal(0.0, 0.7, (len(config.age_buckets), n_categories))
    country_code = pd.Categorical(country, categories=list(config.countries)).codes
    age_code = pd.Categorical(age, categories=list(config.age_buckets)).codes
    tilt = country_tilt[country_code] * age_tilt[age_code]
    alpha = config.interest_concentration * n_categories * tilt / tilt.sum(axis=1, keepdims=True)
    draws = rng.gamma(alpha)
    draws = np.maximum(draws, 1e-12)
    interests: np.ndarray = draws / draws.sum(axis=1, keepdims=True)
    return interests


def _segment_traits(
    rng: np.random.Generator, config: MarketplaceConfig, country: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Taste vectors and price sensitivity shared by a country x age segment (unit variance each).

    Segment traits are what a model can learn from demographics; the rest of a user's taste is
    individual and only shows, weakly, through their clicks.
    """
    n_countries, n_ages = len(config.countries), len(config.age_buckets)
    country_code = pd.Categorical(country, categories=list(config.countries)).codes
    age_code = pd.Categorical(age, categories=list(config.age_buckets)).codes
    taste = rng.normal(0.0, 1.0, (n_countries, n_ages, config.n_taste_dims))
    # Younger segments are more price-sensitive, so offers' appeal follows age.
    age_trend = -np.linspace(-1.0, 1.0, n_ages)
    price = 0.8 * age_trend[None, :] + 0.6 * rng.normal(0.0, 1.0, (n_countries, n_ages))
    return taste[country_code, age_code], price[country_code, age_code]


def make_users(rng: np.random.Generator, config: MarketplaceConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = config.n_users
    country = _choice(rng, config.countries, n)
    age = _choice(rng, config.age_buckets, n)
    platform = _choice(rng, config.platforms, n)
    activity = rng.lognormal(0.0, config.activity_sigma, n)
    interests = _interests(rng, config, country, age)
    segment_taste, segment_price = _segment_traits(rng, config, country, age)
    share = config.segment_share
    taste = np.sqrt(share) * segment_taste + np.sqrt(1 - share) * rng.normal(0.0, 1.0, segment_taste.shape)
    price_sensitivity = np.sqrt(share) * segment_price + np.sqrt(1 - share) * rng.normal(0.0, 1.0, n)
    user_ids = np.arange(1, n + 1, dtype=np.int64)
    users = pd.DataFrame(
        {"user_id": user_ids, "country": country, "age_bucket": age, "platform": platform, "activity": activity}
    )
    truth = pd.DataFrame(
        {
            "user_id": user_ids,
            "propensity": rng.normal(0.0, config.click_model.propensity_std, n),
            "conversion_propensity": rng.normal(0.0, config.conversion_model.propensity_std, n),
            "price_sensitivity": price_sensitivity,
        }
    )
    interest_frame = pd.DataFrame(interests, columns=[f"interest_{c}" for c in ALL_CATEGORIES])
    taste_frame = pd.DataFrame(taste, columns=[f"taste_{k}" for k in range(config.n_taste_dims)])
    return users, pd.concat([truth, interest_frame, taste_frame], axis=1)


def make_advertisers(rng: np.random.Generator, config: MarketplaceConfig) -> pd.DataFrame:
    n = config.n_advertisers
    econ = config.economics
    value_per_conversion = rng.lognormal(np.log(econ.value_per_conversion_median), econ.value_per_conversion_sigma, n)
    # Advertisers value a click at their value per conversion times the conversion rate they expect.
    expected_cvr = 1.0 / (1.0 + np.exp(-config.conversion_model.intercept))
    return pd.DataFrame(
        {
            "advertiser_id": np.arange(1, n + 1, dtype=np.int64),
            "brand": brand_names(rng, n),
            "category": np.array(BASE_CATEGORIES, dtype=object)[rng.integers(0, len(BASE_CATEGORIES), n)],
            "value_per_click": value_per_conversion * expected_cvr,
            "value_per_conversion": value_per_conversion,
            "daily_budget": rng.lognormal(np.log(econ.daily_budget_median), econ.daily_budget_sigma, n),
        }
    )


def _first_days(rng: np.random.Generator, config: MarketplaceConfig, n: int) -> np.ndarray:
    first_day = np.zeros(n, dtype=np.int64)
    kind = rng.random(n)
    cold = kind < config.cold_start_ad_share
    late = (kind >= config.cold_start_ad_share) & (kind < config.cold_start_ad_share + config.late_start_ad_share)
    first_day[cold] = config.test_day
    if config.test_day > 1:
        first_day[late] = rng.integers(1, config.test_day, late.sum())
    return first_day


def make_ads(
    rng: np.random.Generator, config: MarketplaceConfig, advertisers: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_base = config.n_ads
    n_drift = config.drift.new_category_ads if config.drift.enabled else 0
    n = n_base + n_drift
    owner = rng.integers(0, len(advertisers), n)
    owner_category = advertisers["category"].to_numpy()[owner]
    off_vertical = rng.random(n) < 0.15
    category = np.where(
        off_vertical, np.array(BASE_CATEGORIES, dtype=object)[rng.integers(0, len(BASE_CATEGORIES), n)], owner_category
    )
    first_day = _first_days(rng, config, n)
    category[n_base:] = DRIFT_CATEGORY
    first_day[n_base:] = config.n_days + np.arange(n_drift) % config.drift.launch_days
    category_index = pd.Categorical(category, categories=list(ALL_CATEGORIES)).codes.astype(np.int64)
    theme_index = category_index * 4 + rng.integers(0, 4, n)
    offer_index = rng.integers(0, len(OFFERS), n)
    is_clear = rng.random(n) < 0.7
    brands = advertisers["brand"].to_numpy()[owner].tolist()
    titles, descriptions = write_creatives(rng, theme_index, offer_index, is_clear, brands)
    econ = config.economics
    shading = rng.uniform(econ.bid_shading_low, econ.bid_shading_high, n)
    bid = advertisers["value_per_click"].to_numpy()[owner] * shading * rng.lognormal(0.0, 0.2, n)
    ad_ids = np.arange(1, n + 1, dtype=np.int64)
    ads = pd.DataFrame(
        {
            "ad_id": ad_ids,
            "advertiser_id": advertisers["advertiser_id"].to_numpy()[owner],
            "category": category.astype(str),
            "title": titles,
            "description": descriptions,
            "bid": np.round(bid, 4),
            "first_day": first_day,
        }
    )
    click = config.click_model
    quality = rng.normal(0.0, click.quality_std, n) + click.clarity_bonus * (is_clear - is_clear.mean())
    truth = pd.DataFrame(
        {
            "ad_id": ad_ids,
            "theme": [f"{c}/{t}" for c, t in (THEME_NAMES[i] for i in theme_index)],
            "theme_index": theme_index,
            "offer": [OFFERS[i][0] for i in offer_index],
            "offer_kind": [OFFERS[i][1] for i in offer_index],
            "is_clear": is_clear,
            "quality": quality,
            "landing_quality": rng.normal(0.0, config.conversion_model.landing_quality_std, n),
        }
    )
    return ads, truth


def make_entities(rng: np.random.Generator, config: MarketplaceConfig) -> Entities:
    users, truth_users = make_users(rng, config)
    advertisers = make_advertisers(rng, config)
    ads, truth_ads = make_ads(rng, config, advertisers)
    theme_embeddings = rng.normal(0.0, 1.0, (len(THEME_NAMES), config.n_taste_dims))
    return Entities(users, advertisers, ads, truth_users, truth_ads, theme_embeddings)
