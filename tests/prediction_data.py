"""Synthetic data for the prediction tests: customers drawn from the BG/NBD
and Gamma-Gamma models (``models/customer_tier_predict.py``), on which the
tests check that a fit recovers the parameters the data were drawn with.
"""

import numpy as np

from odoo.addons.customer_tier.models.customer_tier_predict import (
    BGNBD_PARAMS,
    GG_PARAMS,
)


def simulate_bgnbd(params, T, rng, horizon=0.0):
    """Draw customers from the BG/NBD model.

    ``T``: observation length of each customer (array); ``horizon``: length
    of a holdout period after ``T``. Returns a dict of arrays ``x``, ``t_x``,
    ``alive`` (still active at ``T``) and ``x_holdout`` (purchases in
    ``(T, T + horizon]``).
    """
    r, alpha, a, b = (params[k] for k in BGNBD_PARAMS)
    T = np.asarray(T, dtype=float)
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    end = T + horizon
    now = np.zeros(n)
    x = np.zeros(n, dtype=int)
    t_x = np.zeros(n)
    x_hold = np.zeros(n, dtype=int)
    dropped_at = np.full(n, np.inf)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / lam[idx])
        bought = now[idx] <= end[idx]
        done = idx[~bought]
        active[done] = False
        idx = idx[bought]
        calib = now[idx] <= T[idx]
        x[idx[calib]] += 1
        t_x[idx[calib]] = now[idx[calib]]
        x_hold[idx[~calib]] += 1
        drops = rng.random(len(idx)) < p[idx]
        dropped_at[idx[drops]] = now[idx[drops]]
        active[idx[drops]] = False
    return {"x": x, "t_x": t_x, "alive": dropped_at > T, "x_holdout": x_hold}


def simulate_gamma_gamma(params, x, rng):
    """Mean value of ``x`` transactions per customer drawn from the model."""
    p, q, v = (params[k] for k in GG_PARAMS)
    x = np.asarray(x, dtype=int)
    nu = rng.gamma(q, 1.0 / v, size=len(x))
    # the sum of x Gamma(p, nu) values is Gamma(p x, nu)
    total = rng.gamma(np.maximum(p * x, 1e-12), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)
