"""auction_eval: ranked candidates -> ground truth per candidate -> mechanism x model replay -> reports, A/B."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.auction_eval import nodes

# Every node here reads the simulator's ground truth (directly or through candidate_truth).
GROUND_TRUTH = ["uses_ground_truth"]
DAY_INPUTS = [
    "ranked_candidates",
    "candidate_truth",
    "candidate_position_effects",
    "validated_requests",
    "validated_ads",
    "validated_advertisers",
]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.score_candidates_with_truth,
                [
                    "ranked_candidates",
                    "validated_requests",
                    "truth_users",
                    "truth_ads",
                    "truth_world",
                    "params:auction_eval",
                ],
                ["candidate_truth", "candidate_position_effects"],
                name="score_candidates_with_truth",
                tags=GROUND_TRUTH,
            ),
            Node(
                nodes.replay_auction_grid,
                [*DAY_INPUTS, "params:auction_eval"],
                [
                    "auction_outcomes",
                    "auction_outcomes_by_seed",
                    "auction_advertiser_outcomes",
                    "auction_pacing_curves",
                ],
                name="replay_auction_grid",
                tags=GROUND_TRUTH,
            ),
            Node(
                nodes.report_auction_comparison,
                ["auction_outcomes", "auction_pacing_curves", "candidate_position_effects", "params:auction_eval"],
                ["auction_comparison", "auction_metrics", "auction_comparison_plot", "auction_pacing_plot"],
                name="report_auction_comparison",
                tags=GROUND_TRUTH,
            ),
            Node(
                nodes.run_ab_test,
                [*DAY_INPUTS, "validated_impressions", "params:auction_eval", "params:ab_test"],
                ["ab_readout", "ab_metrics", "ab_lift_plot"],
                name="run_ab_test",
                tags=GROUND_TRUTH,
            ),
        ],
        tags="auction_eval",
    )
