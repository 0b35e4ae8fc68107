"""The data contract of a parsed click log: a fixed core, extended per column mapping.

The core (line-number ids, a 0/1 label with both classes) holds for every log and is what the
catalog re-checks whenever the validated log is loaded; the full contract adds the mapped time,
categorical and numeric columns with their types. Failures are reported the way the simulated
world's contracts are (``DataContractError``, offending rows named by ``impression_id``, which is
the row's line in the file).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from adrank_pipelines.clicklogs.config import CLICK, EVENT_TIME, IMPRESSION_ID, ColumnMapping
from adrank_pipelines.clicklogs.reader import LINE_INDEX
from adrank_pipelines.schemas.contract_model import ContractModel, primary_key
from adrank_pipelines.schemas.failures import ContractFailure
from adrank_pipelines.schemas.pandera_failures import contract_failures

DATASET = "clicklog_events"


class ClickLogCoreSchema(ContractModel):
    """What every parsed click log holds, whatever its mapping."""

    impression_id: Series[np.int64] = primary_key()
    click: Series[np.int64] = pa.Field(isin=(0, 1))

    # Named after the column it judges (see ContractModel): a model needs clicks and non-clicks.
    # Labels other than 0 / 1 are the isin check's to report, so they do not count here.
    @pa.dataframe_check
    @classmethod
    def click_has_both_classes(cls, frame: pd.DataFrame) -> bool:
        labels = frame[CLICK]
        return bool(labels.eq(0).any() and labels.eq(1).any())


def click_log_contract(mapping: ColumnMapping) -> type[ContractModel]:
    """The core contract plus one typed field per mapped column (aliases keep any column name legal)."""
    annotations: dict[str, object] = {}
    fields: dict[str, object] = {}
    if mapping.time is not None:
        annotations["mapped_time"] = Series[pd.Timestamp]
        fields["mapped_time"] = pa.Field(alias=EVENT_TIME)
    for index, name in enumerate(mapping.categorical):
        annotations[f"categorical_{index}"] = Series[pd.CategoricalDtype]
        fields[f"categorical_{index}"] = pa.Field(alias=name, nullable=True)
    for index, name in enumerate(mapping.numeric):
        annotations[f"numeric_{index}"] = Series[np.float64]
        fields[f"numeric_{index}"] = pa.Field(alias=name, nullable=True)
    return type("ClickLogSchema", (ClickLogCoreSchema,), {"__annotations__": annotations, **fields})


def click_log_failures(events: pd.DataFrame, mapping: ColumnMapping, max_examples: int) -> list[ContractFailure]:
    """Every failed check of the mapping's contract on the parsed log, grouped per column and check.

    An offending row is named by its index, so the log is indexed by ``impression_id`` (the file's
    line) here: "row 3" is then line 3 of the file, not the third row from zero.
    """
    if IMPRESSION_ID in events.columns:
        events = events.set_axis(pd.Index(events[IMPRESSION_ID].to_numpy(), name=LINE_INDEX), axis=0)
    return contract_failures(DATASET, events, click_log_contract(mapping), max_examples)
