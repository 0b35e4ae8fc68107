"""English ad creatives (title + description) written from an ad's theme, offer and clarity."""

from __future__ import annotations

import numpy as np

from adrank_pipelines.marketplace.vocabulary import (
    ADJECTIVES,
    BRAND_PREFIXES,
    BRAND_SUFFIXES,
    CALLS_TO_ACTION,
    FILLER_PHRASES,
    OFFERS,
    THEME_NAMES,
    THEMES,
)


def brand_names(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = rng.integers(0, len(BRAND_PREFIXES), n)
    suffixes = rng.integers(0, len(BRAND_SUFFIXES), n)
    return [BRAND_PREFIXES[p] + BRAND_SUFFIXES[s] for p, s in zip(prefixes, suffixes, strict=True)]


def write_creatives(
    rng: np.random.Generator,
    theme_index: np.ndarray,
    offer_index: np.ndarray,
    is_clear: np.ndarray,
    brands: list[str],
) -> tuple[list[str], list[str]]:
    """Return (titles, descriptions). Clear creatives name theme keywords; unclear ones use filler."""
    titles: list[str] = []
    descriptions: list[str] = []
    for theme_id, offer_id, clear, brand in zip(theme_index, offer_index, is_clear, brands, strict=True):
        category, theme = THEME_NAMES[theme_id]
        keywords = THEMES[category][theme]
        picks = rng.choice(len(keywords), size=3, replace=False)
        offer_phrase = OFFERS[offer_id][0]
        adjective = ADJECTIVES[rng.integers(len(ADJECTIVES))]
        call = CALLS_TO_ACTION[rng.integers(len(CALLS_TO_ACTION))]
        if clear:
            titles.append(f"{brand}: {adjective} {keywords[picks[0]]}, {offer_phrase}")
            descriptions.append(
                f"Discover {keywords[picks[1]]} and {keywords[picks[2]]} from {brand}. {offer_phrase.capitalize()}. {call}."
            )
        else:
            filler = FILLER_PHRASES[rng.integers(len(FILLER_PHRASES))]
            titles.append(f"{brand} - {filler}!!! {offer_phrase}")
            descriptions.append(f"{filler.capitalize()} with {brand} {keywords[picks[0]]}. {call}!")
    return titles, descriptions
