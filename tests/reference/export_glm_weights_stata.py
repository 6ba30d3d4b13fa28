"""Export the Stata numbers behind ``tests/models/test_glm_weights_stata.py``.

Run from the repository root (statsmodels needed, no network):

    python tests/reference/export_glm_weights_stata.py

Writes ``glm_weights_stata.json``: Stata's ``glm ..., family(poisson)`` and
``regress`` on the cpunish data (``statsmodels.datasets.cpunish``, the
tests load it) without weights and with ``[fweight=]``, ``[aweight=]`` and
``[pweight=]`` weights 1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, as
statsmodels ships them (``statsmodels/genmod/tests/results/
results_glm_poisson_weights.py``, made by ``poisson_weights_v2.do`` beside
it): the command line, coefficients, standard errors, log-likelihood, N,
``estat ic``'s AIC and BIC, and the deviance (``glm``) or residual sum of
squares and root MSE (``regress``).
"""

import json
import pathlib

import numpy as np
import statsmodels
from statsmodels.genmod.tests.results import results_glm_poisson_weights as rw

OUT = pathlib.Path(__file__).parent / "glm_weights_stata.json"

NAMES = {
    "glm_none": "poisson_none_nonrobust",
    "glm_fweight": "poisson_fweight_nonrobust",
    "glm_aweight": "poisson_aweight_nonrobust",
    "glm_pweight": "poisson_pweight_nonrobust",
    "regress_aweight": "wls_aweight_robust",
    "regress_fweight": "wls_fweight_clu1",
}


def main():
    out = {"_source": f"statsmodels {statsmodels.__version__}, results_glm_poisson_weights.py"}
    for name, res in NAMES.items():
        b = getattr(rw, f"results_{res}")
        table = np.asarray(b.params_table)
        ic = dict(zip(b.infocrit_colnames, np.asarray(b.infocrit).ravel().tolist()))
        row = {"cmdline": b.cmdline, "params": table[:, 0].tolist(),
               "bse": table[:, 1].tolist(), "ll": float(b.ll), "N": int(b.N),
               "aic": ic["AIC"], "bic": ic["BIC"], "df": ic["df"]}  # fmt: skip
        if name.startswith("glm"):
            row["deviance"] = float(b.deviance)
        else:
            row["rss"], row["rmse"] = float(b.rss), float(b.rmse)
        out[name] = row
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
