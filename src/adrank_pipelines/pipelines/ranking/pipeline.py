"""ranking: retrieved candidates -> their features as served -> pCTR / pCVR per model -> ranked candidates."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.ranking import nodes

SIDE_INPUTS = [
    "validated_requests",
    "validated_users",
    "validated_ads",
    "validated_advertisers",
    "ad_features",
    "behaviour_sequences",
]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.select_candidates,
                ["retrieved_candidates", "params:ranking.candidates"],
                "ranking_candidates",
                name="select_candidates",
            ),
            Node(
                nodes.build_candidate_sides,
                [*SIDE_INPUTS, "ranking_candidates", "params:ranking.candidates"],
                "candidate_sides",
                name="build_candidate_sides",
            ),
            Node(
                nodes.build_statistics_snapshots,
                ["impressions_enriched", "candidate_sides", "params:features.target_stats"],
                "statistics_snapshots",
                name="build_statistics_snapshots",
            ),
            Node(
                nodes.fit_calibrators,
                ["lightgbm_predictions", "transformer_predictions", "model_input_valid", "params:ranking.scoring"],
                "ranking_pctr_calibrators",
                name="fit_ranking_calibrators",
            ),
            Node(
                nodes.build_candidate_scorer,
                [
                    "lightgbm_model",
                    "transformer_ctr_model",
                    "hybrid_model",
                    "ranking_pctr_calibrators",
                    "behaviour_sequences",
                    "ad_features",
                    "ad_text_embeddings",
                    "params:ranking.scoring",
                ],
                "candidate_scorer",
                name="build_candidate_scorer",
            ),
            Node(
                nodes.rank,
                [
                    "ranking_candidates",
                    "candidate_sides",
                    "statistics_snapshots",
                    "vocabularies",
                    "candidate_scorer",
                    "params:features.crosses",
                    "params:features.sequences",
                    "params:ranking.candidates",
                    "params:ranking.objective",
                    "params:ranking.scoring",
                ],
                ["ranked_candidates", "first_ranked_candidates", "ranking_timings"],
                name="rank_candidates",
            ),
            Node(
                nodes.report_ranking,
                [
                    "first_ranked_candidates",
                    "ranking_candidates",
                    "model_input_test",
                    "ranking_timings",
                    "statistics_snapshots",
                    "params:ranking.candidates",
                ],
                ["ranking_report", "ranking_metrics"],
                name="report_ranking",
            ),
        ],
        tags=["ranking"],
    )
