"""An always-valid test of a CTR drop, for a guardrail that reads the same accumulating traffic again and again.

A fixed-sample test read after every window inflates its false-alarm rate with every look. The mixture
sequential probability ratio test (mSPRT; Johari, Pekelis and Walsh, "Always valid inference", 2017) does not:
its likelihood ratio against a normal mixture of alternatives crosses ``1 / alpha`` with probability at most
``alpha`` under the null, however often it is read.

The windows of a rollout serve different shares at different hours, so their arms are not pooled directly: each
window is a stratum in which the split is random. The challenger's clicks are compared with the clicks it would
have had at the champion's CTR of the same window (observed over expected, as in indirect standardisation), and
the statistic is the log of that ratio measured from the guardrail's threshold ``log(1 - max_drop)``, with the
delta-method variance at the null's rates (the challenger's clicks) plus the noise of the champion's estimated
rates. Half a click is added to both sides so that a challenger without clicks still has a finite ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SequentialDrop:
    """The challenger's CTR change against the champion (observed over expected clicks, minus 1) and the
    always-valid evidence that it dropped more than the threshold: ``likelihood_ratio`` and ``p_value``
    (``1 / likelihood_ratio``, at most 1)."""

    change: float
    log_ratio: float
    variance: float
    likelihood_ratio: float
    p_value: float
    dropped_past_threshold: bool

    def significant(self, alpha: float) -> bool:
        return self.dropped_past_threshold and self.p_value <= alpha


@dataclass(frozen=True)
class StratifiedClicks:
    """The challenger's clicks and impressions over the windows read so far, with what the champion's CTR of
    each window expects of them: ``expected`` (sum of n p), ``expected_square`` (sum of n p^2) and
    ``champion_noise`` (sum of n^2 p (1 - p) / m), where n is the challenger's impressions, m the champion's and
    p the champion's CTR in a window. A window the champion served nothing in is left out."""

    challenger_impressions: int = 0
    champion_impressions: int = 0
    challenger_clicks: int = 0
    expected: float = 0.0
    expected_square: float = 0.0
    champion_noise: float = 0.0

    def plus(
        self, champion_impressions: int, champion_clicks: int, challenger_impressions: int, challenger_clicks: int
    ) -> StratifiedClicks:
        if champion_impressions == 0:
            return self
        rate = champion_clicks / champion_impressions
        return StratifiedClicks(
            self.challenger_impressions + challenger_impressions,
            self.champion_impressions + champion_impressions,
            self.challenger_clicks + challenger_clicks,
            self.expected + challenger_impressions * rate,
            self.expected_square + challenger_impressions * rate**2,
            self.champion_noise + challenger_impressions**2 * rate * (1 - rate) / champion_impressions,
        )

    def drop_test(self, max_drop: float, mixture_sd: float) -> SequentialDrop:
        """The mSPRT of "the challenger's CTR is at least ``1 - max_drop`` times the champion's" on the windows so
        far; ``mixture_sd`` is the spread of the log CTR ratios the alternative mixes over."""
        if self.challenger_impressions <= 0:
            raise ValueError("the challenger needs at least one impression in a window the champion also served")
        if not 0.0 <= max_drop < 1.0:
            raise ValueError(f"max_drop must be in [0, 1), got {max_drop}")
        if mixture_sd <= 0.0:
            raise ValueError(f"mixture_sd must be positive, got {mixture_sd}")
        kept = 1.0 - max_drop
        expected = self.expected + 0.5
        log_ratio = math.log((self.challenger_clicks + 0.5) / expected)
        null_click_variance = kept * self.expected - kept**2 * self.expected_square + 0.5
        variance = null_click_variance / (kept * expected) ** 2 + self.champion_noise / expected**2
        distance = log_ratio - math.log(kept)
        mixed = variance + mixture_sd**2
        log_likelihood_ratio = 0.5 * math.log(variance / mixed) + distance**2 * mixture_sd**2 / (2 * variance * mixed)
        likelihood_ratio = math.exp(min(log_likelihood_ratio, 700.0))
        return SequentialDrop(
            change=self.challenger_clicks / self.expected - 1.0 if self.expected > 0 else math.nan,
            log_ratio=log_ratio,
            variance=variance,
            likelihood_ratio=likelihood_ratio,
            p_value=min(1.0, 1.0 / likelihood_ratio),
            dropped_past_threshold=distance < 0.0,
        )
