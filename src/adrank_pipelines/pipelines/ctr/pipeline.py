"""ctr: clicklog_ingest -> clicklog_validate -> clicklog_features -> clicklog_training, as one name.

A package of its own because Kedro imports only the pipeline packages named on the command line
(``find_pipelines`` filters by ``--pipelines``), so a name composed in the registry alone would not
be found. It only sums the stages; they still talk through the catalog alone.
"""

from kedro.pipeline import Pipeline

from adrank_pipelines.pipelines import clicklog_features, clicklog_ingest, clicklog_training, clicklog_validate

STAGES = (clicklog_ingest, clicklog_validate, clicklog_features, clicklog_training)


def create_pipeline(**kwargs) -> Pipeline:
    return sum((stage.create_pipeline() for stage in STAGES), Pipeline([]))
