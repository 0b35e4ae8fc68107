"""Seeded click logs in the Avazu and Criteo file formats with a planted click signal.

For trying the click-log environments and testing them without the public files (whose data may
not be committed): the columns, order, value shapes and missing fields follow the public formats,
and each row's click is drawn from a known probability that depends on a few columns, a cross of
two and (Avazu) the hour of day, so a model that learns the signal shows it in its test AUC and the
known probability gives the ceiling to compare with.

    python -m adrank_pipelines.clicklogs.synthetic avazu data/01_raw/avazu/sample.csv.gz --rows 200000
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

AVAZU_COLUMNS = (
    "id", "click", "hour", "C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
    "app_domain", "app_category", "device_id", "device_ip", "device_model", "device_type",
    "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21",
)  # fmt: skip
CRITEO_COLUMNS = ("label", *(f"I{i}" for i in range(1, 14)), *(f"C{i}" for i in range(1, 27)))
# Placeholder ids Avazu uses for "no site" (app traffic) and "no app" (site traffic).
_NO_SITE, _NO_APP = "85f751fd", "ecad2386"


@dataclass(frozen=True)
class SyntheticLog:
    """The file's columns in file order, and the planted click probability of every row."""

    frame: pd.DataFrame
    true_ctr: np.ndarray
    delimiter: str
    header: bool

    def write(self, path: str | Path) -> Path:
        """Write the file (gzip when ``path`` ends in .gz); empty fields for missing values."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(path, sep=self.delimiter, header=self.header, index=False, na_rep="", lineterminator="\n")
        return path


def _hex_ids(rng: np.random.Generator, n_values: int) -> np.ndarray:
    """``n_values`` distinct 8-character hex strings, like the hashed ids of both public logs."""
    codes = rng.choice(2**32, size=n_values, replace=False)
    return np.array([f"{code:08x}" for code in codes], dtype=object)


def _zipf_codes(rng: np.random.Generator, n_rows: int, n_values: int, exponent: float = 1.1) -> np.ndarray:
    """Value codes 0..n_values-1 with a long tail: a few values carry most rows, as ids do in logs."""
    weights = 1.0 / np.arange(1, n_values + 1) ** exponent
    return rng.choice(n_values, size=n_rows, p=weights / weights.sum())


def _choice(rng: np.random.Generator, n_rows: int, shares: dict[int, float]) -> np.ndarray:
    values = np.array(list(shares))
    return values[rng.choice(len(values), size=n_rows, p=np.array(list(shares.values())))]


def _clicks(rng: np.random.Generator, logit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    true_ctr = 1.0 / (1.0 + np.exp(-logit))
    return (rng.random(len(logit)) < true_ctr).astype(np.int64), true_ctr


def avazu_like(n_rows: int, seed: int = 0, n_days: int = 4, start: str = "2014-10-21") -> SyntheticLog:
    """Rows over ``n_days`` days in hour order; the click depends on site, site category x banner
    position, device model, device type, the C14 creative and the hour of day (CTR about 0.17)."""
    rng = np.random.default_rng(seed)
    hours = np.sort(rng.integers(0, n_days * 24, n_rows))
    site_rows = rng.random(n_rows) < 0.6  # the rest is app traffic

    site = _zipf_codes(rng, n_rows, 300)
    site_ids, site_domains = _hex_ids(rng, 300), _hex_ids(rng, 300)
    site_category_of_site = rng.integers(0, 12, 300)
    app = _zipf_codes(rng, n_rows, 200)
    app_ids, app_domains = _hex_ids(rng, 200), _hex_ids(rng, 200)
    categories = _hex_ids(rng, 12)
    site_category = np.where(site_rows, site_category_of_site[site], 0)
    app_category = np.where(site_rows, 0, rng.integers(0, 12, 200)[app])

    device_model = _zipf_codes(rng, n_rows, 400, exponent=0.9)
    device_type = _choice(rng, n_rows, {1: 0.9, 0: 0.05, 4: 0.04, 5: 0.01})
    banner_pos = _choice(rng, n_rows, {0: 0.7, 1: 0.28, 2: 0.01, 7: 0.01})
    creative = _zipf_codes(rng, n_rows, 600)
    banner_size = rng.integers(0, 3, 600)[creative]  # 320x50, 300x250, 728x90

    logit = (
        -1.75
        + np.where(site_rows, rng.normal(0.0, 0.6, 300)[site], rng.normal(0.0, 0.6, 200)[app])
        + rng.normal(0.0, 0.7, (12, 2))[site_category, (banner_pos == 1).astype(int)]  # the planted cross
        + rng.normal(0.0, 0.3, 400)[device_model]
        + np.select([device_type == 0, device_type == 4], [-0.4, 0.3], 0.0)
        + rng.normal(0.0, 0.3, 600)[creative]
        + 0.35 * np.sin(2 * np.pi * (hours % 24) / 24)
    )
    clicks, true_ctr = _clicks(rng, logit)
    timestamps = pd.Timestamp(start) + pd.to_timedelta(hours, unit="h")
    frame = pd.DataFrame(
        {
            "id": rng.integers(10**18, 2**63 - 1, n_rows, dtype=np.int64).astype(str),
            "click": clicks,
            "hour": timestamps.strftime("%y%m%d%H").astype(int),
            "C1": _choice(rng, n_rows, {1005: 0.92, 1002: 0.05, 1010: 0.03}),
            "banner_pos": banner_pos,
            "site_id": np.where(site_rows, site_ids[site], _NO_SITE),
            "site_domain": np.where(site_rows, site_domains[site], "c4e18dd6"),
            "site_category": categories[site_category],
            "app_id": np.where(site_rows, _NO_APP, app_ids[app]),
            "app_domain": np.where(site_rows, "7801e8d9", app_domains[app]),
            "app_category": categories[app_category],
            "device_id": np.where(rng.random(n_rows) < 0.8, "a99f214a", _hex_ids(rng, n_rows)),
            "device_ip": _hex_ids(rng, max(n_rows // 3, 1))[rng.integers(0, max(n_rows // 3, 1), n_rows)],
            "device_model": _hex_ids(rng, 400)[device_model],
            "device_type": device_type,
            "device_conn_type": _choice(rng, n_rows, {0: 0.86, 2: 0.08, 3: 0.05, 5: 0.01}),
            "C14": 15700 + creative,
            "C15": np.array([320, 300, 728])[banner_size],
            "C16": np.array([50, 250, 90])[banner_size],
            "C17": 1700 + creative // 8,
            "C18": rng.integers(0, 4, n_rows),
            "C19": _choice(rng, n_rows, {35: 0.5, 39: 0.3, 161: 0.2}),
            "C20": np.where(rng.random(n_rows) < 0.45, -1, 100000 + rng.integers(0, 200, n_rows)),
            "C21": 1 + creative % 60,
        },
        columns=list(AVAZU_COLUMNS),
    )
    return SyntheticLog(frame, true_ctr, delimiter=",", header=True)


def criteo_like(n_rows: int, seed: int = 0) -> SyntheticLog:
    """Rows without time; the click depends on I1, I3 (and whether I5 is missing), C3, C14 and the
    C6 x C9 cross (CTR about 0.25). Integer fields and the later categorical fields are often empty."""
    rng = np.random.default_rng(seed)
    counts = {f"I{i}": rng.geometric(rng.uniform(0.02, 0.5), n_rows) - 1 for i in range(1, 14)}
    counts["I2"] = counts["I2"] - 2  # the one integer field with negative values
    missing_shares = [0.45, 0.0, 0.2, 0.2, 0.03, 0.22, 0.04, 0.0, 0.04, 0.45, 0.04, 0.77, 0.2]
    missing = {name: rng.random(n_rows) < share for name, share in zip(counts, missing_shares, strict=True)}
    cardinality = [
        80, 300, 5000, 3000, 20, 12, 800, 40, 3, 2000, 1500, 4000, 600,
        25, 1200, 3500, 10, 900, 300, 4, 3800, 8, 12, 2500, 30, 1800,
    ]  # fmt: skip
    codes = {f"C{i}": _zipf_codes(rng, n_rows, size) for i, size in enumerate(cardinality, 1)}
    logit = (
        -1.35
        + np.where(missing["I1"], 0.0, 0.35 * np.log1p(counts["I1"]))
        - np.where(missing["I3"], 0.0, 0.25 * np.log1p(counts["I3"]))
        + 0.5 * missing["I5"]
        + rng.normal(0.0, 0.6, cardinality[2])[codes["C3"]]
        + rng.normal(0.0, 0.5, cardinality[13])[codes["C14"]]
        + rng.normal(0.0, 0.6, (cardinality[5], cardinality[8]))[codes["C6"], codes["C9"]]  # the planted cross
    )
    clicks, true_ctr = _clicks(rng, logit)
    # None marks the missing entries of the Int64 arrays (numpy takes it as an object scalar).
    integers = {
        name: pd.array(np.where(missing[name], None, values), dtype="Int64")  # type: ignore[call-overload]  # stubs reject None
        for name, values in counts.items()
    }
    categorical = {}
    for index, (name, value_codes) in enumerate(codes.items()):
        values = _hex_ids(rng, cardinality[index])[value_codes]
        # Like Criteo, the later categorical fields are often empty.
        empty = rng.random(n_rows) < (0.4 if index >= 18 else 0.02)
        categorical[name] = np.where(empty, None, values)
    frame = pd.DataFrame({"label": clicks, **integers, **categorical}, columns=list(CRITEO_COLUMNS))
    return SyntheticLog(frame, true_ctr, delimiter="\t", header=False)


GENERATORS = {"avazu": avazu_like, "criteo": criteo_like}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=sorted(GENERATORS))
    parser.add_argument("path", type=Path, help="file to write; gzip when it ends in .gz")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth", type=Path, help="also write the planted click probability per line (Parquet)")
    args = parser.parse_args(argv)
    log = GENERATORS[args.format](args.rows, seed=args.seed)
    log.write(args.path)
    if args.truth is not None:
        first_line = 1 + int(log.header)
        lines = np.arange(first_line, first_line + len(log.true_ctr))
        pd.DataFrame({"impression_id": lines, "true_ctr": log.true_ctr}).to_parquet(args.truth)
    print(f"wrote {len(log.frame):,} rows, planted mean CTR {log.true_ctr.mean():.3f}, to {args.path}")


if __name__ == "__main__":
    main()
