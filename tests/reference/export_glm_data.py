"""Export the statsmodels-shipped data sets used by ``glm.R`` and ``test_glm_r.py``.

Run from the repository root (statsmodels and pandas needed, no network):

    python tests/reference/export_glm_data.py

Writes ``tests/reference/glm_data_<name>.csv`` with exactly the columns the
models use. pandas writes each float as the shortest string that reads back to
the same double, so R and Python fit the same numbers. Derived columns:

- ``fair.affairs_n``: ``affairs`` rounded to the nearest integer (half to even)
  as a count response; ``religious`` and ``rate_marriage`` as integers.
- ``randhie.health``: the self-rated health category from the indicators
  ``hlthg``/``hlthf``/``hlthp`` ("good"/"fair"/"poor", "excellent" when all are
  0), one categorical column instead of three dummies.
- ``star98``: the 303 California school districts, columns as shipped.

Data: spector (Spector and Mazzeo 1980), star98 (California STAR test 1998),
fair (Fair 1978, Redbook survey), randhie (RAND Health Insurance Experiment,
Deb and Trivedi 2002 extract), scotland (Scottish Parliament tax-power
referendum 1997); see ``statsmodels.datasets``.
"""

import pathlib

import numpy as np
import pandas as pd
import statsmodels.api as sm

OUT = pathlib.Path(__file__).parent


def _load(name):
    return getattr(sm.datasets, name).load_pandas().data


def frames():
    """Dict of name -> DataFrame (the exported columns)."""
    spector = _load("spector")[["GRADE", "GPA", "TUCE", "PSI"]].astype(
        {"GRADE": int, "PSI": int, "TUCE": int}
    )
    star98 = _load("star98")[
        ["NABOVE", "NBELOW", "LOWINC", "PERASIAN", "PERBLACK", "PERHISP",
         "PERMINTE", "AVYRSEXP", "PCTCHRT"]
    ].astype({"NABOVE": int, "NBELOW": int})  # fmt: skip
    fair = _load("fair")
    fair = pd.DataFrame({
        "affairs_n": np.round(fair["affairs"].to_numpy()).astype(int),
        "rate_marriage": fair["rate_marriage"].astype(int),
        "age": fair["age"],
        "yrs_married": fair["yrs_married"],
        "religious": fair["religious"].astype(int),
        "educ": fair["educ"].astype(int),
    })  # fmt: skip
    rh = _load("randhie")
    health = np.select(
        [rh["hlthg"] == 1, rh["hlthf"] == 1, rh["hlthp"] == 1],
        ["good", "fair", "poor"],
        "excellent",
    )
    assert int((rh[["hlthg", "hlthf", "hlthp"]].sum(axis=1) > 1).sum()) == 0
    randhie = pd.DataFrame({
        "mdvis": rh["mdvis"].astype(int), "lncoins": rh["lncoins"],
        "idp": rh["idp"].astype(int), "lpi": rh["lpi"], "physlm": rh["physlm"],
        "disea": rh["disea"], "health": health,
    })  # fmt: skip
    scotland = _load("scotland")[
        ["YES", "COUTAX", "UNEMPF", "MOR", "ACT", "GDP", "AGE"]
    ]
    return {"spector": spector, "star98": star98, "fair": fair, "randhie": randhie,
            "scotland": scotland}  # fmt: skip


def main():
    for name, df in frames().items():
        path = OUT / f"glm_data_{name}.csv"
        df.to_csv(path, index=False)  # shortest round-trip floats
        print(f"{path}: {df.shape[0]} rows, columns {list(df.columns)}")


if __name__ == "__main__":
    main()
