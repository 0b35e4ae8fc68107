"""What every table contract shares: its config, the non-empty rule and the id field shapes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

# The "column" of a table-wide rule that judges no single column (e.g. the table has rows).
WHOLE_TABLE = "(whole table)"
# The name of the rule that a table holds rows (``ContractModel.has_at_least_one_row``): an empty
# table is reported as such, ahead of anything its columns could say.
NON_EMPTY_CHECK = "has_at_least_one_row"
BINARY_LABEL = (0, 1)


# Any, like pa.Field itself: a model assigns the field to its typed column annotation (e.g. Series[np.int64]).
def primary_key() -> Any:
    # Ids start at 1: 0 is the padding value of behaviour sequences.
    return pa.Field(ge=1, unique=True)


def foreign_key() -> Any:
    return pa.Field(ge=1)


def probability(nullable: bool = False) -> Any:
    return pa.Field(in_range={"min_value": 0.0, "max_value": 1.0}, nullable=nullable)


class TableContract(pa.DataFrameModel):
    """Base of the raw-table contracts: the column rules only, so an empty table may pass."""

    class Config:
        strict = False  # a user's own logs may carry extra columns; downstream reads named ones
        coerce = False  # a wrong dtype is a breach of contract, never silently repaired


class ContractModel(TableContract):
    """A raw-table contract whose table must hold at least one row."""

    # Table-wide checks are named after their method: pandera 0.35 drops the ``name=`` of a check
    # inherited by a second model. A name that starts with a column name judges that column.
    @pa.dataframe_check
    @classmethod
    def has_at_least_one_row(cls, frame: pd.DataFrame) -> bool:
        return len(frame) > 0


class ClickLabels(TableContract):
    """The labels of a logged impression: a click, and a conversion only after a click."""

    click: Series[np.int8] = pa.Field(isin=BINARY_LABEL)
    conversion: Series[np.int8] = pa.Field(isin=BINARY_LABEL)

    @pa.dataframe_check
    @classmethod
    def conversion_at_most_click(cls, frame: pd.DataFrame) -> pd.Series[bool]:
        return frame["conversion"] <= frame["click"]
