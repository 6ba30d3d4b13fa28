"""Export the data and Stata numbers behind ``test_vcov_conventions.py``.

Run from the repository root (statsmodels and pandas needed, no network):

    python tests/reference/export_vcov_conventions.py

Writes

- ``vcov_data_ships.csv``: the ship-accident data (McCullagh and Nelder 1989,
  as statsmodels ships it for its Stata comparisons,
  ``statsmodels/discrete/tests/results/ships.csv``), rows with a missing
  value dropped (34 rows), columns ship, yr_con, op_75_79, service, accident;
- ``vcov_data_grunfeld.csv``: the Grunfeld investment data
  (``statsmodels.datasets.grunfeld``), its first 200 rows (the ten firms of
  statsmodels' Stata runs), columns invest, value, capital, firm, year;
- ``vcov_conventions_stata.json``: covariance matrices that Stata computed,
  copied from the result modules statsmodels ships
  (``results_macro_ols_robust.py``, ``results_grunfeld_ols_robust_cluster.py``,
  ``results_count_robust_cluster.py``, ``results_glm_poisson_weights.py``),
  with the Stata command of each. The macro and cpunish data sets are
  ``statsmodels.datasets.macrodata`` and ``.cpunish`` (the tests load them).

pandas writes each float as the shortest string that reads back to the same
double, so R and Python fit the same numbers.
"""

import json
import pathlib

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.datasets import grunfeld
from statsmodels.discrete.tests.results import results_count_robust_cluster as rc
from statsmodels.genmod.tests.results import results_glm_poisson_weights as rw
from statsmodels.regression.tests.results import results_grunfeld_ols_robust_cluster as rg
from statsmodels.regression.tests.results import results_macro_ols_robust as rm

OUT = pathlib.Path(__file__).parent

RESULTS = {
    # name: (result bunch, data set)
    "macro_regress_robust": (rm.results_hc0, "macro"),
    "macro_ivreg2_robust": (rm.results_ivhc0_large, "macro"),
    "macro_ivreg2_robust_small": (rm.results_ivhc0_small, "macro"),
    "macro_newey_lag4": (rm.results_newey4, "macro"),
    "macro_ivreg2_bw5": (rm.results_ivhac4_large, "macro"),
    "macro_ivreg2_bw5_small": (rm.results_ivhac4_small, "macro"),
    "grunfeld_regress_cluster": (rg.results_cluster, "grunfeld"),
    "grunfeld_ivreg2_cluster": (rg.results_cluster_large, "grunfeld"),
    "grunfeld_ivreg2_cluster2_small": (rg.results_cluster_2groups_small, "grunfeld"),
    "grunfeld_ivreg2_cluster2": (rg.results_cluster_2groups_large, "grunfeld"),
    "grunfeld_xtscc_lag4": (rg.results_nw_groupsum4, "grunfeld"),
    "grunfeld_ivreg2_dkraay5": (rg.results_nw_groupsum4_ivreg_large, "grunfeld"),
    "grunfeld_ivreg2_dkraay5_small": (rg.results_nw_groupsum4_ivreg_small, "grunfeld"),
    "ships_poisson_robust": (rc.results_poisson_hc1, "ships"),
    "ships_poisson_cluster": (rc.results_poisson_clu, "ships"),
    "ships_poisson_exposure_robust": (rc.results_poisson_exposure_hc1, "ships"),
    "ships_poisson_exposure_cluster": (rc.results_poisson_exposure_clu, "ships"),
    # nbreg: coefficients, then ln(alpha) ("params" also lists alpha last)
    "ships_nbreg_robust": (rc.results_negbin_hc1, "ships"),
    "ships_nbreg_cluster": (rc.results_negbin_clu, "ships"),
    # glm ..., family(poisson) on statsmodels.datasets.cpunish, without weights,
    # [fweight=fweight] and [pweight=fweight]; vce(cluster id)
    **{f"cpunish_glm_{w}_{v}": (getattr(rw, f"results_poisson_{w}_{s}"), "cpunish")
       for w in ("none", "fweight", "pweight")
       for v, s in (("robust", "hc1"), ("cluster", "clu1"))},
    # regress on the same data: [aweight=fweight] vce(robust), and vce(cluster id)
    # with [aweight=], [fweight=], [pweight=]
    "cpunish_regress_aweight_robust": (rw.results_wls_aweight_robust, "cpunish"),
    **{f"cpunish_regress_{w}_cluster": (getattr(rw, f"results_wls_{w}_clu1"), "cpunish")
       for w in ("aweight", "fweight", "pweight")},
}


def main():
    src = pathlib.Path(statsmodels.__file__).parent / "discrete/tests/results/ships.csv"
    ships = pd.read_csv(src).dropna()
    cols = ["ship", "yr_con", "op_75_79", "service", "accident"]
    ships[cols].astype({"ship": int, "yr_con": int, "op_75_79": int}).to_csv(
        OUT / "vcov_data_ships.csv", index=False
    )
    g = grunfeld.load_pandas().data.iloc[:200]
    g = g[["invest", "value", "capital", "firm", "year"]].copy()
    g["year"] = g["year"].astype(int)
    g.to_csv(OUT / "vcov_data_grunfeld.csv", index=False)
    out = {}
    for name, (res, data) in RESULTS.items():
        cov = np.asarray(res.cov, dtype=float)
        k = int(round(np.sqrt(cov.size)))
        out[name] = {
            "data": data,
            # (the xtscc result stores no command line: its command and lag)
            "cmdline": getattr(res, "cmdline", None) or f"{res.cmd}, lag({res.lag})",
            "names": list(res.cov_colnames),
            "params": [float(v) for v in np.asarray(res.params_table)[:, 0]],
            "cov": cov.reshape(k, k).tolist(),
        }
    with open(OUT / "vcov_conventions_stata.json", "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
