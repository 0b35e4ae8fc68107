"""Replay one day of requests in time order through one mechanism, with pacing and shading state.

The day is cut into pacing steps. Within a step every auction is cleared at once with the controls
set at the end of the previous step; clicks and conversions are drawn from the ground truth;
charges are applied in time order under the budget cap; then the controller and the learned
shading update. Click and conversion draws come from one uniform per (request, slot) fixed by the
seed, so replays of different mechanisms and models share their random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adrank_pipelines.auction.book import CandidateBook
from adrank_pipelines.auction.config import AuctionRules, MechanismSpec, PacingParams
from adrank_pipelines.auction.mechanisms import clear, eligible, ranking_score
from adrank_pipelines.auction.pacing import PacingController, cap_to_budget
from adrank_pipelines.auction.shading import Shading, score_to_beat


@dataclass(frozen=True)
class ReplayLog:
    """One entry per served impression, in time order, plus each account's spend after every step."""

    request_row: np.ndarray
    column: np.ndarray
    slot: np.ndarray  # 0 = top slot
    account: np.ndarray
    price: np.ndarray  # per click
    true_pctr: np.ndarray  # of this ad in this slot
    true_pcvr: np.ndarray
    click: np.ndarray
    conversion: np.ndarray
    spend_by_step: np.ndarray  # [steps, accounts] realised spend at the end of each step
    slots_offered: int  # slots the mechanism could have filled over the day
    withdrawn: int  # impressions withdrawn by the budget cap inside a step


@dataclass(frozen=True)
class _Draws:
    click: np.ndarray  # [R, S]
    conversion: np.ndarray  # [R, S]
    throttle: np.random.Generator


def _draws(book: CandidateBook, n_slot_columns: int, seed: int) -> _Draws:
    click_rng, conversion_rng, throttle_rng = np.random.default_rng(seed).spawn(3)
    shape = (book.n_requests, n_slot_columns)
    return _Draws(click_rng.random(shape), conversion_rng.random(shape), throttle_rng)


def slot_discounts_for(mechanism: MechanismSpec, rules: AuctionRules, book: CandidateBook) -> np.ndarray:
    """The position discounts of the slots this mechanism may sell."""
    discounts = np.asarray(rules.position_discounts)
    most_slots = int(book.n_slots.max()) if book.n_requests else 1
    if most_slots > len(discounts):
        raise ValueError(
            f"requests have up to {most_slots} slots but auction_eval.rules.position_discounts has only "
            f"{len(discounts)} entries"
        )
    limit = mechanism.slot_limit
    return discounts[: min(most_slots, limit if limit is not None else most_slots)]


def replay_day(
    book: CandidateBook,
    mechanism: MechanismSpec,
    rules: AuctionRules,
    pacing: PacingParams,
    target: np.ndarray,
    seed: int,
) -> ReplayLog:
    """Serve every request of ``book`` in time order; ``target`` is the cumulative spend share per step."""
    discounts = slot_discounts_for(mechanism, rules, book)
    n_columns = len(discounts)
    # One uniform per slot of the page, whatever this mechanism sells, so that draws line up across mechanisms.
    draws = _draws(book, int(book.n_slots.max()) if book.n_requests else 1, seed)
    accounts = book.accounts
    controller = PacingController(accounts.budget, pacing, target)
    shading = Shading(mechanism.shading, len(accounts))
    bounds = np.searchsorted(book.step, np.arange(len(target) + 1), side="left")
    spend_by_step = np.zeros((len(target), len(accounts)))
    served: list[tuple[np.ndarray, ...]] = []
    withdrawn = 0
    for step in range(len(target)):
        lo, hi = bounds[step], bounds[step + 1]
        if hi > lo:
            batch, n_withdrawn = _serve_step(
                book, slice(lo, hi), mechanism, rules, discounts, controller, shading, draws
            )
            served.append(batch)
            withdrawn += n_withdrawn
        controller.end_step(step)
        spend_by_step[step] = controller.spend
    fields = [np.concatenate(parts) for parts in zip(*served, strict=True)] if served else [np.zeros(0)] * 9
    request_row, column, slot, account, price, true_pctr, true_pcvr, click, conversion = fields
    return ReplayLog(
        request_row=request_row.astype(np.int64),
        column=column.astype(np.int64),
        slot=slot.astype(np.int64),
        account=account.astype(np.int64),
        price=price,
        true_pctr=true_pctr,
        true_pcvr=true_pcvr,
        click=click.astype(bool),
        conversion=conversion.astype(bool),
        spend_by_step=spend_by_step,
        slots_offered=int(np.minimum(book.n_slots, n_columns).sum()),
        withdrawn=withdrawn,
    )


def _serve_step(
    book: CandidateBook,
    rows: slice,
    mechanism: MechanismSpec,
    rules: AuctionRules,
    discounts: np.ndarray,
    controller: PacingController,
    shading: Shading,
    draws: _Draws,
) -> tuple[tuple[np.ndarray, ...], int]:
    account = book.account[rows]
    safe_account = np.maximum(account, 0)
    pctr, quality = book.pctr[rows], book.quality[rows]
    n_slots = np.minimum(book.n_slots[rows], len(discounts))
    in_market = (account >= 0) & controller.active(safe_account) & controller.participates(safe_account, draws.throttle)
    max_bid = book.bid[rows] * controller.bid_multiplier(safe_account)
    bid = max_bid * shading.factor[safe_account]
    allowed = eligible(in_market, bid, pctr, quality, rules.min_quality, rules.reserve_price)
    allocation = clear(mechanism.kind, bid, pctr, quality, allowed, rules.reserve_price, n_slots, discounts)
    if shading.learns:
        _learn_shading(shading, in_market, safe_account, max_bid, pctr, quality, allowed, bid, n_slots, rules)

    request, slot = np.nonzero(allocation.filled)  # row-major: time order, then slot order
    column = allocation.winner[request, slot]
    price = allocation.price[request, slot]
    payer = safe_account[request, column]
    absolute = request + rows.start
    true_pctr = book.true_pctr(absolute, column, slot)
    true_pcvr = book.true_pcvr[absolute, column]
    click = draws.click[absolute, slot] < true_pctr
    conversion = click & (draws.conversion[absolute, slot] < true_pcvr)
    keep = cap_to_budget(payer, click * price, controller.spend, controller.budget)
    controller.charge(payer[keep], (click * price)[keep])
    batch = (absolute, column, slot, payer, price, true_pctr, true_pcvr, click, conversion)
    return tuple(field[keep] for field in batch), int((~keep).sum())


def _learn_shading(
    shading: Shading,
    in_market: np.ndarray,
    account: np.ndarray,
    max_bid: np.ndarray,
    pctr: np.ndarray,
    quality: np.ndarray,
    allowed: np.ndarray,
    bid: np.ndarray,
    n_slots: np.ndarray,
    rules: AuctionRules,
) -> None:
    """Each bidder in the market learns from the minimum bid that would have won it a slot."""
    to_beat = score_to_beat(ranking_score(bid, pctr, quality, allowed), n_slots)
    bidders = in_market & (quality >= rules.min_quality) & (pctr > 0)
    shading.observe(
        account[bidders],
        max_bid[bidders],
        (pctr * quality)[bidders],
        pctr[bidders],
        to_beat[bidders],
        rules.reserve_price,
    )
