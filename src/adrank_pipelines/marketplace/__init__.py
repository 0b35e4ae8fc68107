"""The simulated ad marketplace: a seeded world with a known ground truth (no Kedro imports)."""

from adrank_pipelines.marketplace.config import MarketplaceConfig
from adrank_pipelines.marketplace.ground_truth import Context, GroundTruth
from adrank_pipelines.marketplace.simulate import MarketplaceTables, simulate_marketplace

__all__ = ["Context", "GroundTruth", "MarketplaceConfig", "MarketplaceTables", "simulate_marketplace"]
