"""The problem catalogue: every hard or bad case likelihax knows, and what it must give.

One row per case: a short name, a function that runs it, and the outcome it
must have, one of

* ``Fit(status, warning, match)``: a result whose ``status`` is ``status``,
  whose ``converged`` is true exactly when the status is ``success``, and which
  emitted a warning of class ``warning`` whose text matches ``match`` (or no
  likelihax warning at all when ``warning`` is None);
* ``Raises(exception, match)``: an exception of that class whose message
  matches (it names the field, row or option).

The README's "What a result promises" list is this table in words; a test
below checks that every status named here is named there. Detailed checks of
each case (numbers against references) live in the modules named in the
comments.
"""

import json
import re
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax.numpy as jnp
import jax.scipy.stats as st
import numpy as np
import pandas as pd
import pytest

import likelihax as lx

S = lx.Status
POS = lx.constraints.positive
README = Path(__file__).resolve().parents[2] / "README.md"


class Fit(NamedTuple):
    status: Any
    warning: type | None = None
    match: str = ""


class Raises(NamedTuple):
    exception: type
    match: str


def _logit(p, d):
    eta = p["a"] + p["b"] * d["x"]
    return d["y"] * eta - jnp.logaddexp(0.0, eta)


def _intercept_logit(p, d):
    return d["y"] * p["a"] - jnp.logaddexp(0.0, p["a"])


def _naive_logit(p, d):
    # 0 * log(0) = NaN far along the direction to infinity: the probe looks closer
    s = 1.0 / (1.0 + jnp.exp(-p["a"]))
    return d["y"] * jnp.log(s) + (1 - d["y"]) * jnp.log(1 - s)


def _normal(p, d):
    return st.norm.logpdf(d["y"], p["mu"], p["sigma"])


X30 = np.random.default_rng(0).normal(size=30)
Y30 = (X30 + np.random.default_rng(1).normal(size=30) > 0).astype(float)


def _quasi_separated():
    # separated but for two ties at x = 0 (one of each class): b -> infinity,
    # a stays finite
    x = np.r_[X30, 0.0, 0.0]
    y = np.r_[(X30 > 0).astype(float), 0.0, 1.0]
    return lx.fit(_logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y})


def _raw_years():
    # engine/test_ill_conditioned.py: estimates match R and a 50-digit solution to 1e-8
    yr = np.repeat(np.arange(2000.0, 2011.0), 10)
    t = (yr - 2005) / 5
    y = 1 + 0.5 * t - 0.8 * t**2 + np.random.default_rng(2).normal(0, 0.3, yr.size)
    return lx.glm("y ~ year + I(year**2)", pd.DataFrame({"y": y, "year": yr}),
                  family="gaussian")  # fmt: skip


def _bump(p, d):
    # a local maximum at about 0 whose neighbourhood one SE away (x = 1) is
    # 1.5 higher, under a second, higher mode
    x = p["x"]
    return -(x**2) / 2 + 2 * jnp.exp(-((x - 1.0) ** 2) / (2 * 0.2**2))


def _staircase(p, d):
    # rises without bound in steps: every local maximum (an integer, SE 1) has
    # a higher one 1 SE on
    x = p["x"]
    return -0.5 * (x - jnp.round(x)) ** 2 + 3 * jnp.round(x)


def _variance_at_zero():
    # known sampling variances 4 exceed the spread of y: tau^2's MLE is 0
    y = np.random.default_rng(1).normal(0, 1.0, 40)

    def meta(p, d):
        return st.norm.logpdf(d["y"], p["mu"], jnp.sqrt(p["tau2"] + 4.0))

    return lx.fit(meta, {"mu": 0.0, "tau2": 1.0}, {"y": y}, constraints={"tau2": POS})


def _saddle(p, d):
    return -(p["a"] ** 2) + p["b"] ** 2 - p["b"] ** 4


def _fit_many_one_separated():
    X = np.random.default_rng(0).normal(size=(3, 30))
    Y = (X + np.random.default_rng(1).normal(size=(3, 30)) > 0).astype(float)
    Y[1] = (X[1] > 0).astype(float)
    return lx.fit_many(_logit, {"a": 0.0, "b": 0.0}, {"x": X, "y": Y})


def _bootstrap_separated_resamples():
    rng = np.random.default_rng(3)
    x = rng.normal(size=15)
    y = (x + rng.normal(size=15) * 0.6 > 0).astype(float)
    return lx.bootstrap(lx.fit(_logit, {"a": 0.0, "b": 0.0}, {"x": x, "y": y}), 100,
                        seed=1)  # fmt: skip


def _load_with_status(tmp_path, status):
    f = lx.fit(_normal, {"mu": 0.0, "sigma": 1.0}, {"y": np.arange(5.0)},
               constraints={"sigma": POS})  # fmt: skip
    f.save(tmp_path / "r")
    meta = json.loads((tmp_path / "r.json").read_text())
    meta["status"] = status
    (tmp_path / "r.json").write_text(json.dumps(meta))
    return lx.load_result(tmp_path / "r")


# (name, run, outcome). ``run`` takes pytest's tmp_path.
CATALOGUE: list[tuple[str, Callable, Any]] = [
    # --- well-posed but hard: right, and said so only when it is --------------------
    ("ill-conditioned raw-year polynomial (condition 4e12): exact, SE rounding said",
     lambda _: _raw_years(), Fit(S.success, lx.InformationWarning, "ill-conditioned")),
    ("local maximum with a higher point 1 SE away: restarted, then converged",
     lambda _: lx.fit(_bump, {"x": -0.5}, None, nobs=1),
     Fit(S.success, lx.InformationWarning, "restarted from there")),
    ("always a higher point 1 SE on: not a maximum",
     lambda _: lx.fit(_staircase, {"x": 0.1}, None, nobs=1),
     Fit(S.not_maximum, lx.ConvergenceWarning, "not a maximum")),
    # --- maxima at infinity or on a boundary
    #     (engine/test_errors.py, inference/test_bootstrap.py) ---------------------
    ("custom logistic, all y = 1",
     lambda _: lx.fit(_intercept_logit, {"a": 0.0}, {"y": np.ones(30)}),
     Fit(S.unbounded, lx.InformationWarning, "still rising")),
    ("custom logistic written as log(sigmoid), all y = 1 (NaN one SE away)",
     lambda _: lx.fit(_naive_logit, {"a": 0.0}, {"y": np.ones(30)}),
     Fit(S.unbounded, lx.InformationWarning, "still rising")),
    ("custom logistic, complete separation",
     lambda _: lx.fit(_logit, {"a": 0.0, "b": 0.0}, {"x": X30, "y": (X30 > 0) * 1.0}),
     Fit(S.unbounded, lx.InformationWarning, r"along \[.*b")),
    ("custom logistic, quasi-complete separation",
     lambda _: _quasi_separated(), Fit(S.unbounded, lx.InformationWarning, r"\bb\b")),
    ("Poisson GLM of an all-zero response",
     lambda _: lx.glm("y ~ 1", pd.DataFrame({"y": np.zeros(20)}), family="poisson"),
     Fit(S.unbounded, lx.InformationWarning, "all zero")),
    ("binomial GLM with separation",
     lambda _: lx.glm((X30 > 0).astype(float), np.c_[np.ones(30), X30],
                      family="binomial"),
     Fit(S.unbounded, lx.SeparationWarning, "separation")),
    ("a variance whose MLE is 0",
     lambda _: _variance_at_zero(), Fit(S.at_boundary, lx.InformationWarning, "tau2")),
    ("fit_many with one separated data set: statuses per data set",
     lambda _: _fit_many_one_separated(), "fit_many"),
    ("bootstrap of a small logistic fit: separated resamples counted",
     lambda _: _bootstrap_separated_resamples(), "bootstrap"),
    # --- not identified, not a maximum, not converged ------------------------------
    ("a parameter the log-likelihood does not use: not identified",
     lambda _: lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["mu"], 1.0) + 0 * p["c"],
                      {"mu": 0.0, "c": 1.0}, {"y": np.arange(4.0)}),
     Fit(S.information_singular, lx.InformationWarning, r"\[1\*c\]")),
    ("collinear columns in a custom model: not identified",
     lambda _: lx.fit(lambda p, d: st.norm.logpdf(d["y"], p["a"] + p["b"], 1.0),
                      {"a": 0.0, "b": 0.0}, {"y": np.arange(4.0)}),
     Fit(S.information_singular, lx.InformationWarning, "not identified")),
    ("started exactly at a saddle point",
     lambda _: lx.fit(_saddle, {"a": 0.0, "b": 0.0}, None, nobs=1),
     Fit(S.information_indefinite, lx.InformationWarning, "saddle point")),
    ("too few steps",
     lambda _: lx.fit(_normal, {"mu": 5.0, "sigma": 9.0}, {"y": np.arange(9.0)},
                      constraints={"sigma": POS}, max_steps=1),
     Fit(S.max_steps, lx.ConvergenceWarning, "max_steps")),
    ("too few steps in a GLM with a dispersion (no refit may report success)",
     lambda _: lx.glm("y ~ x", pd.DataFrame({"y": np.exp(X30) + 1, "x": X30}),
                      family="gamma", max_steps=1),
     Fit(S.max_steps, lx.ConvergenceWarning, "max_steps")),
    # --- bad input: a clear error naming the field, row or option (engine/test_bad_inputs.py)
    ("non-finite log-likelihood at the start",
     lambda _: lx.fit(lambda p, d: jnp.log(d["y"] - p["m"]), {"m": 0.5},
                      {"y": np.r_[0.0, 1.0]}),
     Raises(ValueError, r"not finite at the starting values.*first: \[0\]")),
    ("NaN in a data field",
     lambda _: lx.fit(_normal, {"mu": 0.0, "sigma": 1.0}, {"y": np.r_[0.0, np.nan]},
                      constraints={"sigma": POS}),
     Raises(ValueError, r"'y'.*NaN")),
    ("a response of one row beside 30 rows of x",
     lambda _: lx.fit(_logit, {"a": 0.0, "b": 0.0}, {"x": X30, "y": Y30[:1]}),
     Raises(ValueError, "Data field 'y' has 1 row")),
    ("a date column",
     lambda _: lx.fit(_normal, {"mu": 0.0, "sigma": 1.0},
                      pd.DataFrame({"y": pd.date_range("2020", periods=3)}),
                      constraints={"sigma": POS}),
     Raises(TypeError, "Data field 'y' holds dates")),
    ("NaN inside a streamed ArraySource block",
     lambda _: lx.fit(_normal, {"mu": 0.0, "sigma": 1.0},
                      lx.ArraySource({"y": np.r_[np.zeros(99), np.nan]}, chunk_size=25),
                      constraints={"sigma": POS}),
     Raises(ValueError, r"'y' has NaN values at rows \[99\]")),
    ("max_steps of -1",
     lambda _: lx.fit(_normal, {"mu": 0.0, "sigma": 1.0}, {"y": np.arange(3.0)},
                      constraints={"sigma": POS}, max_steps=-1),
     Raises(ValueError, "max_steps")),
    ("an unknown method",
     lambda _: lx.fit(_normal, {"mu": 0.0, "sigma": 1.0}, {"y": np.arange(3.0)},
                      constraints={"sigma": POS}, method="newtonn"),
     Raises(ValueError, "method")),
    ("fit_distribution of constant data",
     lambda _: lx.fit_distribution("normal", np.full(20, 3.0)),
     Raises(ValueError, "x is constant")),
    ("a saved result with an unknown status",
     lambda tmp: _load_with_status(tmp, "exploded"),
     Raises(ValueError, "entry 'status' is 'exploded'")),
]  # fmt: skip


def _statuses(outcome) -> set:
    return {outcome.status} if isinstance(outcome, Fit) else set()


@pytest.mark.parametrize("name, run, outcome", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_catalogue(name, run, outcome, tmp_path):
    if isinstance(outcome, Raises):
        with pytest.raises(outcome.exception, match=outcome.match):
            run(tmp_path)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run(tmp_path)
    ours = [w for w in caught if issubclass(w.category, lx.LikelihaxWarning)]
    if outcome == "fit_many":
        codes = [S(int(c)) for c in res.status_code]
        assert codes == [S.success, S.unbounded, S.success]
        assert list(res.converged) == [True, False, True]
        assert not ours  # fit_many reports by status, not by warnings
        return
    if outcome == "bootstrap":
        assert res.n_failed > 0 and res.failures == {"unbounded": res.n_failed}
        assert len(res.replicates) == 100 - res.n_failed
        assert [w.category for w in ours] == [lx.ConvergenceWarning]
        assert re.search(r"\d+ of 100 bootstrap replicates", str(ours[0].message))
        return
    fit = getattr(res, "fit", res)
    assert fit.status == outcome.status, (fit.status, fit.message)
    assert bool(fit.converged) == (outcome.status == S.success)
    if outcome.warning is None:
        assert not ours, [str(w.message) for w in ours]
    else:
        hits = [w for w in ours if issubclass(w.category, outcome.warning)
                and re.search(outcome.match, str(w.message))]  # fmt: skip
        assert hits, [f"{w.category.__name__}: {w.message}" for w in ours]
    if outcome.status != S.success:
        # a failure is always said: a warning, and never a success message
        assert ours and fit.message == outcome.status.message


def test_readme_lists_every_status_of_the_catalogue():
    """The README's guarantees name every status the catalogue exercises."""
    text = README.read_text()
    start = text.index("### What a result promises")
    section = text[start : text.index("\n## ", start)]
    named = set().union(*(_statuses(o) for _, _, o in CATALOGUE))
    named |= {S.unbounded}  # fit_many and bootstrap rows
    for status in named:
        assert f"`{status.name}`" in section, status.name
