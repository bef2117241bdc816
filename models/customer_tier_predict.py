"""Predictive customer value: the BG/NBD and Gamma-Gamma models.

Pure NumPy/SciPy (no Odoo import), vectorised over customers.

BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way: An
Alternative to the Pareto/NBD Model", Marketing Science 24(2)): while active, a
customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``; after each repeat
purchase it drops out with probability ``p ~ Beta(a, b)``. Per customer the
model reads three numbers:

* ``x``: repeat purchases (distinct purchase dates minus one);
* ``t_x``: time from the first to the last purchase;
* ``T``: time from the first purchase to the evaluation date.

The time unit is whatever ``t_x`` and ``T`` are given in (the module passes
days); ``alpha`` comes out in that unit, ``r``, ``a`` and ``b`` have none. The
fit rescales time internally so the optimiser starts from sensible values.

Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value";
Colombo & Jiang 1999): the value of one transaction is Gamma(p, nu), with
``nu ~ Gamma(q, v)`` across customers; it is fitted on the mean value of the
repeat transactions of the customers with at least one, and gives the
conditional expected value of a customer's next transactions. It assumes the
value does not depend on the purchase frequency.

Both fits are maximum likelihood in log-parameter space (L-BFGS-B, polished by
Nelder-Mead if it does not converge), on rescaled data: time by the median
``T``, money by the median mean value (a median, unlike a mean, is not dragged
up by a few very large customers). A fit refuses to run on fewer repeat
customers than asked, and reports an optimiser failure or non-finite result as
a failed fit; either way :class:`Fit` carries a status instead of numbers.

A fit that converged is still refused (status ``unreliable``, no numbers) when
the data do not determine it:

* *at a bound*: for some parameter, one end of the search box (its logarithm
  at ``-LOG_BOUND`` or ``+LOG_BOUND``, i.e. ``e**-12`` or ``e**12`` on the
  rescaled data; for Gamma-Gamma the parameters are ``p``, ``q - 1`` and
  ``v``) is as likely as the estimate: setting it there, the other parameters
  kept, lowers the total log-likelihood by less than ``BOUND_LOG_LIKELIHOOD``
  = 1.92 (half the 95 % quantile of a chi-square with one degree of
  freedom). The bound then lies inside the parameter's 95 %
  likelihood-ratio interval: the estimate ran off towards 0 or infinity and
  where the optimiser stopped says nothing (for example ``q - 1`` = 6e-6, a
  mean order value of millions on a sample whose median is 43);
* *implausible mean value* (Gamma-Gamma only): the population mean value it
  implies, ``v p / (q - 1)``, is the model's expectation of the mean values
  ``m`` it was fitted on, whose sample mean estimates the same quantity
  without any model; it must lie between ``1 / MEAN_VALUE_FACTOR`` and
  ``MEAN_VALUE_FACTOR`` (4) times that sample mean. (On samples drawn from
  the model itself the ratio stays between about 0.4 and 3.)
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1

# Log-parameter bounds: exp(+-12) is far outside anything meaningful once the
# data are rescaled (time by the median T, money by the median mean value).
LOG_BOUND = 12.0
# A bound of the search box this close in total log-likelihood to the
# estimate makes the fit unreliable (chi-square(1) 95 % quantile / 2).
BOUND_LOG_LIKELIHOOD = 1.92
# The Gamma-Gamma population mean value must lie within this factor of the
# sample mean of the mean values it was fitted on.
MEAN_VALUE_FACTOR = 4.0

# Objective value standing for a non-finite likelihood.
FAILED_OBJECTIVE = 1e100

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient"
STATUS_FAILED = "failed"
STATUS_UNRELIABLE = "unreliable"

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "v")


@dataclass
class Fit:
    """Result of a fit: ``params`` (a dict) only when ``status`` is ok."""

    status: str
    message: str
    params: dict | None = None
    log_likelihood: float | None = None  # total over the customers fitted
    customers: int = 0  # customers the fit read
    repeaters: int = 0  # of which with at least one repeat purchase
    extra: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.status == STATUS_OK


def _arrays(*values):
    return [np.asarray(v, dtype=float) for v in values]


def _compress(columns, weights=None):
    """Collapse identical rows into unique rows with weights (counts)."""
    stacked = np.column_stack(columns)
    if weights is None:
        unique, counts = np.unique(stacked, axis=0, return_counts=True)
        return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=np.asarray(weights, dtype=float))
    return [unique[:, i] for i in range(unique.shape[1])], summed


def _minimize(objective, start):
    """Minimise in log space; return (x, fun) or None on failure."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        try:
            res = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
            if not res.success or not np.isfinite(res.fun):
                polish = minimize(
                    objective,
                    np.clip(res.x, -LOG_BOUND, LOG_BOUND),
                    method="Nelder-Mead",
                    bounds=bounds,
                    options={"maxiter": 4000, "xatol": 1e-8, "fatol": 1e-10},
                )
                if polish.fun <= res.fun or not np.isfinite(res.fun):
                    res = polish
        except (ValueError, FloatingPointError, OverflowError):
            return None
    if (
        not res.success
        or not np.all(np.isfinite(res.x))
        or not np.isfinite(res.fun)
        or res.fun >= FAILED_OBJECTIVE
    ):
        return None
    return res.x, float(res.fun)


def _start(params, size):
    """The optimiser's starting point: the logarithms of ``params`` (positive
    and finite, clipped to the search box), else 0 (every parameter 1)."""
    if params is not None:
        values = np.asarray(params, dtype=float)
        if values.shape == (size,) and np.all(np.isfinite(values) & (values > 0)):
            return np.clip(np.log(values), -LOG_BOUND, LOG_BOUND)
    return np.zeros(size)


def _bound_parameters(objective, theta, total):
    """Indexes of the log-parameters one of whose bounds (``+-LOG_BOUND``,
    the others kept) lowers the total log-likelihood by less than
    ``BOUND_LOG_LIKELIHOOD`` (``objective`` is the mean over ``total``)."""
    best = objective(theta)
    found = []
    with np.errstate(all="ignore"):
        for index in range(len(theta)):
            for end in (-LOG_BOUND, LOG_BOUND):
                moved = np.array(theta, dtype=float)
                moved[index] = end
                value = objective(moved)
                if np.isfinite(value) and (value - best) * total < (
                    BOUND_LOG_LIKELIHOOD
                ):
                    found.append(index)
                    break
    return found


# ----------------------------------------------------------------------
# BG/NBD
# ----------------------------------------------------------------------
def bgnbd_log_likelihood(params, x, t_x, T):
    """Per-customer log-likelihood (FHL 2005, eq. 6)."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    x, t_x, T = _arrays(x, t_x, T)
    repeat = x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(
        repeat,
        np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def _objective_value(ll, w, total):
    """What the optimiser minimises: the mean negative log-likelihood ``ll``
    over the ``total`` customers (``w``: customers per row);
    ``FAILED_OBJECTIVE`` where it is not finite."""
    value = -(w * ll).sum() / total  # (np.dot: BLAS threads, slower here)
    return value if np.isfinite(value) else FAILED_OBJECTIVE


def _too_few(found, customers, min_repeaters, what):
    """The fit refused when ``found`` customers with ``what`` are fewer than
    ``min_repeaters`` (at least one); None otherwise."""
    needed = max(min_repeaters, 1)
    if found >= needed:
        return None
    return Fit(
        STATUS_INSUFFICIENT,
        f"{found} customers with {what}, {needed} needed",
        customers=customers,
        repeaters=found,
    )


def _bgnbd_objective(theta, x, t_x, T, w, total):
    params = dict(zip(BGNBD_PARAMS, np.exp(theta), strict=True))
    ll = bgnbd_log_likelihood(params, x, t_x, T)
    return _objective_value(ll, w, total)


def fit_bgnbd(x, t_x, T, min_repeaters=10, start=None):
    """Maximum-likelihood BG/NBD fit.

    ``x``, ``t_x``, ``T``: one value per customer (see the module docstring).
    At least ``min_repeaters`` customers with ``x >= 1`` are needed.
    ``start``: parameters to start the optimiser from (a previous fit's, in
    the same time unit); by default r = alpha = a = b = 1 on the rescaled data.
    """
    x, t_x, T = _arrays(x, t_x, T)
    n = len(x)
    repeaters = int(np.count_nonzero(x > 0))
    refused = _too_few(repeaters, n, min_repeaters, "a repeat purchase")
    if refused is not None:
        return refused
    if not (
        np.all(np.isfinite(x)) and np.all(np.isfinite(t_x)) and np.all(np.isfinite(T))
    ) or (np.any(x < 0) or np.any(t_x < 0) or np.any(T < t_x)):
        return Fit(
            STATUS_FAILED,
            "inconsistent data: finite x, t_x >= 0 and t_x <= T are needed",
            customers=n,
            repeaters=repeaters,
        )
    scale = float(np.median(T[T > 0])) if np.any(T > 0) else 1.0
    (xu, txu, Tu), w = _compress([x, t_x / scale, T / scale])
    start = _start(
        start and [start["r"], start["alpha"] / scale, start["a"], start["b"]], 4
    )
    result = _minimize(lambda th: _bgnbd_objective(th, xu, txu, Tu, w, n), start)
    if result is None:
        return Fit(
            STATUS_FAILED,
            "the optimiser did not converge",
            customers=n,
            repeaters=repeaters,
        )
    theta, _fun = result
    r, alpha, a, b = np.exp(theta)
    params = {"r": r, "alpha": alpha * scale, "a": a, "b": b}
    # log-likelihood in the original time unit
    ll = float(np.sum(bgnbd_log_likelihood(params, x, t_x, T)))
    if not np.isfinite(ll) or not all(np.isfinite(v) for v in params.values()):
        return Fit(
            STATUS_FAILED, "non-finite parameters", customers=n, repeaters=repeaters
        )
    params = {k: float(v) for k, v in params.items()}
    bound = _bound_parameters(
        lambda th: _bgnbd_objective(th, xu, txu, Tu, w, n), theta, n
    )
    if bound:
        names = ", ".join(BGNBD_PARAMS[i] for i in bound)
        return Fit(
            STATUS_UNRELIABLE,
            f"the estimate is at a bound ({names}: as likely at 0 or infinity)",
            log_likelihood=ll,
            customers=n,
            repeaters=repeaters,
            extra={"rejected": params, "bound": [BGNBD_PARAMS[i] for i in bound]},
        )
    return Fit(
        STATUS_OK,
        "fitted",
        params=params,
        log_likelihood=ll,
        customers=n,
        repeaters=repeaters,
    )


def _alive_odds_log(params, x, t_x, T):
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) (-inf when x = 0)."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1, 1.0)
    return np.where(
        repeat,
        np.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )


def probability_alive(params, x, t_x, T):
    """P(active at T | x, t_x, T): 1 / (1 + d(x>0) a/(b+x-1) ((a+T)/(a+t_x))^(r+x))."""
    x, t_x, T = _arrays(x, t_x, T)
    with np.errstate(over="ignore", divide="ignore"):
        return expit(-_alive_odds_log(params, x, t_x, T))


def expected_purchases(params, t, x, t_x, T):
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10).

    Written with Euler's transformation of the hypergeometric function,
    ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
    = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` with
    ``z = t / (alpha+T+t)``, which stays well conditioned for large ``x``.
    """
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    x, t_x, T = _arrays(x, t_x, T)
    if abs(a - 1.0) < 1e-7:  # removable singularity at a = 1
        a = 1.0 + 1e-7
    one_minus_z = (alpha + T) / (alpha + T + t)
    z = 1.0 - one_minus_z
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        tail = one_minus_z ** (a - 1.0) * hyp2f1(
            a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
        )
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - tail)
        return numerator * expit(-_alive_odds_log(params, x, t_x, T))


def expected_purchases_population(params, t):
    """E[X(t)] for a customer just acquired (FHL 2005, eq. 9)."""
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (
        (a + b - 1.0)
        / (a - 1.0)
        * (1.0 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1.0, z))
    )


# ----------------------------------------------------------------------
# Gamma-Gamma
# ----------------------------------------------------------------------
def gamma_gamma_log_likelihood(params, x, m):
    """Per-customer log-likelihood of the mean value ``m`` of ``x`` purchases."""
    p, q, v = (params[k] for k in GG_PARAMS)
    x, m = _arrays(x, m)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def _gg_params(theta):
    # q > 1 keeps the population mean value v p / (q - 1) finite.
    return {"p": np.exp(theta[0]), "q": 1.0 + np.exp(theta[1]), "v": np.exp(theta[2])}


def _gg_objective(theta, x, m, w, total):
    ll = gamma_gamma_log_likelihood(_gg_params(theta), x, m)
    return _objective_value(ll, w, total)


def fit_gamma_gamma(x, m, min_repeaters=10, start=None):
    """Maximum-likelihood Gamma-Gamma fit on the customers with ``x >= 1``
    repeat purchases of mean value ``m > 0`` (the others are ignored).
    ``start``: parameters to start the optimiser from (a previous fit's, in
    the same money unit); by default p = q - 1 = v = 1 on the rescaled data.

    Unreliable (no parameters) at a bound or with an implausible population
    mean value (see the module docstring)."""
    x, m = _arrays(x, m)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    n = len(x)
    refused = _too_few(n, n, min_repeaters, "a valued repeat purchase")
    if refused is not None:
        return refused
    if np.ptp(m) <= 0 and np.all(x == x[0]):
        return Fit(STATUS_FAILED, "all mean values are equal", customers=n, repeaters=n)
    scale = float(np.median(m))
    (xu, mu), w = _compress([x, m / scale])
    start = _start(start and [start["p"], start["q"] - 1.0, start["v"] / scale], 3)

    def objective(theta):
        return _gg_objective(theta, xu, mu, w, n)

    result = _minimize(objective, start)
    if result is None:
        return Fit(
            STATUS_FAILED, "the optimiser did not converge", customers=n, repeaters=n
        )
    theta, _fun = result
    params = _gg_params(theta)
    params["v"] *= scale
    ll = float(np.sum(gamma_gamma_log_likelihood(params, x, m)))
    if not np.isfinite(ll) or not all(np.isfinite(v) for v in params.values()):
        return Fit(STATUS_FAILED, "non-finite parameters", customers=n, repeaters=n)
    params = {k: float(v) for k, v in params.items()}
    mean_value = params["v"] * params["p"] / (params["q"] - 1.0)
    sample_mean = float(np.mean(m))
    extra = {"mean_value": mean_value, "sample_mean": sample_mean}
    bound = _bound_parameters(objective, theta, n)
    if bound:
        names = ", ".join(("p", "q - 1", "v")[i] for i in bound)
        return Fit(
            STATUS_UNRELIABLE,
            f"the estimate is at a bound ({names}: as likely at 0 or infinity)",
            log_likelihood=ll,
            customers=n,
            repeaters=n,
            extra=dict(extra, rejected=params, bound=[GG_PARAMS[i] for i in bound]),
        )
    if not (
        np.isfinite(mean_value)
        and sample_mean / MEAN_VALUE_FACTOR
        <= mean_value
        <= sample_mean * MEAN_VALUE_FACTOR
    ):
        return Fit(
            STATUS_UNRELIABLE,
            f"implausible mean value {mean_value:.6g} (sample mean {sample_mean:.6g})",
            log_likelihood=ll,
            customers=n,
            repeaters=n,
            extra=dict(extra, rejected=params),
        )
    return Fit(
        STATUS_OK,
        "fitted",
        params=params,
        log_likelihood=ll,
        customers=n,
        repeaters=n,
        extra=extra,
    )


def expected_average_value(params, x, m):
    """E[value of a transaction | x, m]: a weighted mean of the population
    mean ``v p / (q - 1)`` and the customer's mean ``m`` (weight ``p x``);
    customers without repeat purchase get the population mean."""
    p, q, v = (params[k] for k in GG_PARAMS)
    x, m = _arrays(x, m)
    m = np.where(x > 0, np.maximum(m, 0.0), 0.0)
    return (v + m * x) * p / (p * x + q - 1.0)
