"""ranking: retrieved candidates -> their features as served -> pCTR / pCVR per model -> ranked candidates."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup, model_blocks
from adrank_pipelines.models.zoo import scoring_closure, zoo_model
from adrank_pipelines.models.zoo.interface import ModelInput
from adrank_pipelines.pipelines.ranking import nodes

SIDE_INPUTS = [
    "validated_requests",
    "validated_users",
    "validated_ads",
    "validated_advertisers",
    "ad_features",
    "behaviour_sequences",
]


def _model_artifacts() -> dict[str, str]:
    """The registry champions (model + calibrator) of the ranked models, the pCVR model and every model they read."""
    parameters = graph_parameters()
    ranked = lookup(parameters, "ranking.scoring.models")
    scored = scoring_closure([*ranked, lookup(parameters, "ranking.scoring.pcvr_model")], model_blocks(parameters))
    artifacts = {f"{name}{nodes.RELEASE_KEY}": f"{name}.registered_model" for name in scored}
    artifacts |= {
        f"{name}{nodes.TEXT_KEY}": f"{name}.ad_text_embeddings"
        for name in scored
        if ModelInput.TEXT in zoo_model(name).inputs
    }
    return artifacts


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
                nodes.build_candidate_scorer,
                {
                    "behaviour_sequences": "behaviour_sequences",
                    "ad_features": "ad_features",
                    "scoring": "params:ranking.scoring",
                    **_model_artifacts(),
                },
                "candidate_scorer",
                name="build_candidate_scorer",
            ),
            Node(
                nodes.rank,
                [
                    "ranking_candidates",
                    "candidate_sides",
                    "statistics_snapshots",
                    "feature_recipe",
                    "candidate_scorer",
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
