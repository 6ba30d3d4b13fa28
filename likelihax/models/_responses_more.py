r"""Response distributions of GAMs, Cox models and class-imbalance fits (``simulate``).

=====================  ====================================================
kind                   response
=====================  ====================================================
gam                    the family at :math:`\hat\mu_i = g^{-1}(x_i^\top\hat\beta)`
                       (the posterior mode), with the REML/LAML scale
                       :math:`\hat\phi = \hat\sigma^2` where the family has one
cox                    event times from the fitted model, censored (below)
weighted_logit,        Bernoulli with the fitted probability
focal_logit            :math:`\sigma(x_i^\top\hat\beta)`
=====================  ====================================================

**Cox models.** R's ``survival`` package has no ``simulate`` method for
``coxph`` fits, so the convention is this one. A row with covariates
:math:`x` has the fitted survival function :math:`S(t \mid x) =
\exp(-\hat H_0(t)\,e^{x^\top\hat\beta})`, with :math:`\hat H_0` the fit's
cumulative baseline hazard (:meth:`CoxResult.baseline_hazard`: Breslow's, or
Efron's with ``ties="efron"``, as ``survfit``), a step function of the event
times of the row's stratum. The event time :math:`T` is drawn by inverting
:math:`S`: with :math:`E \sim \mathrm{Exp}(1)`, :math:`T` is the first event
time :math:`t_k` with :math:`\hat H_0(t_k)\,e^{x^\top\hat\beta} \ge E`, so
:math:`P(T \le t) = 1 - S(t \mid x)` at every :math:`t`. Where no event time
qualifies (:math:`S` stays above the draw) the time is censored at the last
observed time of the stratum (the model says nothing beyond it). A fitted row
that was censored in the data keeps its censoring time :math:`C`: the
simulated response is :math:`\min(T, C)`, an event when :math:`T \le C`
(a death and a censoring at the same time count the death first, as in the
partial likelihood). New rows (``newdata``) have no censoring time of their
own. :func:`likelihax.simulate` returns the times; the event indicators of
the same draws: :meth:`CoxResult.simulate_events`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..results import Response, register_response
from ._responses import _family_response
from .glm import get_family

__all__: list[str] = []


def _f64(a):
    return jnp.asarray(np.asarray(a, dtype=np.float64))


# ----- GAMs ----------------------------------------------------------------------------
def _gam(r, newdata, conditional):
    fam = get_family(r.family)
    mu = np.asarray(r.predict(newdata), dtype=np.float64)
    par = r.fit.params
    phi = float(par["sigma"]) ** 2 if fam.dispersion else 1.0
    alpha = float(par["alpha"]) if fam.has_alpha else None
    y = None if newdata is not None else np.asarray(r._para.y, dtype=np.float64)
    return _family_response(fam, mu, y, 1.0, phi, alpha)


# ----- class-imbalance fits ------------------------------------------------------------
def _logit_fit(f, newdata, conditional):
    from ..inference import predictor_of

    pred = predictor_of(f)
    X = pred.build(pred.rows(newdata))["X"]
    p = np.asarray(pred.fn(f.params, {"X": _f64(X)}), dtype=np.float64)
    y = None if newdata is not None else np.asarray(f.setup.data["y"], dtype=np.float64)
    return _family_response(get_family("binomial"), p, y, 1.0, 1.0, None)


# ----- Cox models ------------------------------------------------------------------------
def cox_response(r, newdata=None, conditional=None, events: bool = False) -> Response:
    """The :class:`Response` of a Cox fit (module notes): the observed times,
    or with ``events=True`` the event indicators of the same draws."""
    from ._surv import new_matrix

    labels = r._strata_labels
    tables = []
    for s in [None] if labels is None else labels:
        t, inc, _, _ = r._increments(s)
        in_s = slice(None) if labels is None else r._codes == labels.index(s)
        tables.append((t, np.cumsum(inc), float(np.max(r._times[in_s]))))
    X = new_matrix(r._design, newdata)[:, r._keep]
    risk = np.exp(X @ np.array([r.coef[c] for c in r.columns]))
    n = risk.size
    code = np.zeros(n, np.int32)
    if labels is not None:
        code = np.array([labels.index(v) for v in r._row_strata(newdata)], np.int32)
    C, y = np.full(n, np.inf), None
    if newdata is None:  # the fitted rows: their censoring times, in the data's order
        ev, y = np.empty(n), np.empty(n)
        ev[r._order], y[r._order] = np.asarray(r._data["event"]), r._times
        C = np.where(ev > 0, np.inf, y)
    params = {"risk": _f64(risk), "t": [_f64(t) for t, _, _ in tables],
              "H": [_f64(H) for _, H, _ in tables],
              "cap": _f64([c for _, _, c in tables])}  # fmt: skip
    data = {"code": jnp.asarray(code), "C": _f64(C)}

    def draw(key, p, d):
        target = jax.random.exponential(key, p["risk"].shape) / p["risk"]
        T = jnp.full(target.shape, jnp.inf)
        for j, (t, H) in enumerate(zip(p["t"], p["H"])):
            k = jnp.searchsorted(H, target, side="left")  # first H0(t_k) >= E / risk
            Tj = jnp.where(k < H.shape[0], t[jnp.minimum(k, H.shape[0] - 1)], jnp.inf)
            T = jnp.where(d["code"] == j, Tj, T)
        event = jnp.isfinite(T) & (T <= d["C"])
        return jnp.where(event, T, jnp.minimum(d["C"], p["cap"][d["code"]])), event

    def sample(key, p, d):
        time, event = draw(key, p, d)
        return event.astype(jnp.float64) if events else time

    def cdf(p, d, yy):
        # P(T < y) and P(T <= y); a censored row: the interval [F(C), 1]
        lo, hi = jnp.zeros_like(yy), jnp.zeros_like(yy)
        for j, (t, H) in enumerate(zip(p["t"], p["H"])):
            H0 = jnp.concatenate([jnp.zeros(1), H])
            at_lo = H0[jnp.searchsorted(t, yy, side="left")]
            at_hi = H0[jnp.searchsorted(t, yy, side="right")]
            lo = jnp.where(d["code"] == j, -jnp.expm1(-at_lo * p["risk"]), lo)
            hi = jnp.where(d["code"] == j, -jnp.expm1(-at_hi * p["risk"]), hi)
        censored = jnp.isfinite(d["C"])
        return jnp.where(censored, hi, lo), jnp.where(censored, 1.0, hi)

    return Response(sample, params, data, None if events else y, None,
                    None if events or newdata is not None else cdf, True)  # fmt: skip


def simulate_events(self, n: int = 1, seed=0, newdata=None):
    """Event indicators (1.0 an event, 0.0 censored) of the draws of
    ``lx.simulate(result, n, seed, newdata)``, ``(n, n_obs)`` (module notes).

    Examples
    --------
    >>> import numpy as np, pandas as pd, likelihax as lx
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=100)
    >>> t, c = rng.exponential(np.exp(-x)), rng.exponential(2.0, 100)
    >>> df = pd.DataFrame({"t": np.minimum(t, c), "d": (t <= c).astype(int), "x": x})
    >>> r = lx.coxph("Surv(t, d) ~ x", df)
    >>> times, events = r.simulate(5, seed=1), r.simulate_events(5, seed=1)
    >>> bool(np.all(times[events == 0] >= 0)), bool(np.all(times <= df["t"].max()))
    (True, True)
    """
    from ..core import x64_scope
    from ..results import draw_responses

    with x64_scope():
        return draw_responses(cox_response(self, newdata, None, True), n, seed)


register_response("gam", _gam)
register_response("cox", cox_response)
register_response("weighted_logit", _logit_fit, model_result=False)
register_response("focal_logit", _logit_fit, model_result=False)
