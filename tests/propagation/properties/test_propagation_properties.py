"""Hypothesis invariants of the propagation kernel (run as a group: tests/propagation/properties).

- no shortfall when supply covers demand;
- the shortfall never exceeds demand and is never negative;
- the shortfall grows (weakly) as China's supply is cut;
- permuting the industries permutes the result;
- substitution (demand cut as a shortage lasts) never adds unmet demand;
- the vectorised NumPy kernel and the numba loop equal a plain Python loop, and each
  other bit for bit.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.propagation import kernels

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ("proportional", "priority", "end_use")


@st.composite
def kernel_inputs(draw, max_r=2, max_t=6, max_i=4, max_p=5):
    R = draw(st.integers(1, max_r))
    T = draw(st.integers(1, max_t))
    I = draw(st.integers(1, max_i))  # noqa: E741
    P = draw(st.integers(1, max_p))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    f32 = np.float32
    demand = (rng.random((R, T, I, P)) * 100).astype(f32)
    # some zero demands, some zero supplies: the edge cases
    demand[rng.random(demand.shape) < 0.15] = 0
    total = demand[:, :, 0].copy()
    for i in range(1, I):
        total += demand[:, :, i]
    scale = rng.random((R, T, P)) * 1.5
    china = (total * scale * rng.random((R, T, P))).astype(f32)
    other = (total * scale * rng.random((R, T, P)) * 0.5).astype(f32)
    china[rng.random(china.shape) < 0.1] = 0
    stock0 = (rng.random((R, I, P)) * 50).astype(f32)
    cap = (rng.random((R, I, P)) * 3).astype(f32)
    deferred = rng.random((R, I, P)).astype(f32)
    deferred[rng.random(deferred.shape) < 0.3] = 0
    sub_rate = (rng.random((R, I, P)) * 0.2).astype(f32)
    sub_rate[rng.random(sub_rate.shape) < 0.3] = 0
    sub_lag = rng.integers(0, 3, size=(R, I, P)).astype(f32)
    ceiling_scale = (1 + rng.random((R, T, P))).astype(f32)
    ceiling_scale[rng.random(ceiling_scale.shape) < 0.5] = 1
    mode = draw(st.sampled_from(MODES))
    eligible = rng.random(I) < 0.6
    order = rng.permutation(I)[: draw(st.integers(0, I))]
    return {
        "demand": demand,
        "demand_total": total,
        "supply_china": china,
        "supply_other": other,
        "stock0": stock0,
        "cap_cover": cap,
        "deferred_share": deferred,
        "sub_rate": sub_rate,
        "sub_lag": sub_lag,
        "ceiling_scale": ceiling_scale,
        "mode": kernels.MODES[mode],
        "eligible": eligible,
        "order": order,
    }


def python_loop(
    demand,
    demand_total,
    supply_china,
    supply_other,
    stock0,
    cap_cover,
    deferred_share,
    sub_rate,
    sub_lag,
    ceiling_scale,
    mode,
    eligible,
    order,
):
    """The recursion written scalar by scalar in float64, as in the kernels' docstring."""
    R, T, I, P = demand.shape  # noqa: E741
    short = np.zeros((R, T, I, P))
    order = [int(i) for i in order]
    rest = [i for i in range(I) if i not in order]
    for r in range(R):
        for p in range(P):
            stock = [float(stock0[r, i, p]) for i in range(I)]
            backlog = [0.0] * I
            z = [-float(sub_lag[r, i, p]) for i in range(I)]
            for t in range(T):
                d = [float(demand[r, t, i, p]) for i in range(I)]
                sd = float(demand_total[r, t, p])
                sc, sn = float(supply_china[r, t, p]), float(supply_other[r, t, p])
                if mode == kernels.PROPORTIONAL:
                    q = (sc + sn) / sd if sd > 0 else 0.0
                    alloc = [di * q for di in d]
                elif mode == kernels.END_USE:
                    se = sum(d[i] for i in range(I) if eligible[i])
                    qc = sc / se if se > 0 else 0.0
                    qn = sn / sd if sd > 0 else 0.0
                    alloc = [d[i] * ((qc if eligible[i] else 0.0) + qn) for i in range(I)]
                else:
                    rem = sc + sn
                    alloc = [0.0] * I
                    for i in order:
                        alloc[i] = min(d[i], rem)
                        rem -= alloc[i]
                    sdr = sum(d[i] for i in rest)
                    if sdr > 0:
                        qr = min(rem / sdr, 1.0)
                        left = max(rem - qr * sdr, 0.0)
                    else:
                        qr, left = 0.0, rem
                    qs = left / sd if sd > 0 else 0.0
                    for i in range(I):
                        alloc[i] += d[i] * (qs + (0.0 if i in order else qr))
                for i in range(I):
                    keep = max(1.0 - float(sub_rate[r, i, p]) * max(z[i], 0.0), 0.0)
                    need = d[i] * keep
                    available = stock[i] + alloc[i]
                    used = min(available, need)
                    short[r, t, i, p] = need - used
                    if short[r, t, i, p] > kernels.SHARE_TOL * need:
                        z[i] += 1.0
                    spare = available - used
                    catch = min(spare, backlog[i])
                    backlog[i] += float(deferred_share[r, i, p]) * short[r, t, i, p] - catch
                    ceiling = float(cap_cover[r, i, p]) * float(ceiling_scale[r, t, p]) * need
                    stock[i] = min(spare - catch, ceiling)
    return short


def run(inputs, backend="numba", **override):
    args = {**inputs, **override}
    return kernels.simulate_shortfall(**args, backend=backend)


@SETTINGS
@given(kernel_inputs())
def test_kernels_equal_python_loop(inputs):
    expected = python_loop(**inputs)
    scale = max(1.0, float(inputs["demand"].max()))
    fast = run(inputs, "numba")
    ref = run(inputs, "numpy")
    np.testing.assert_allclose(ref, expected, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(fast, expected, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_array_equal(fast, ref)  # same float32 arithmetic in the same order
    np.testing.assert_array_equal(kernels.simulate_shortfall(**inputs, parallel=True), fast)


@SETTINGS
@given(kernel_inputs())
def test_shortfall_between_zero_and_demand(inputs):
    short = run(inputs)
    assert (short >= 0).all()
    assert (short <= inputs["demand"]).all()


@SETTINGS
@given(kernel_inputs(), st.floats(1e-3, 2.0), st.sampled_from(["proportional", "priority"]))
def test_no_shortage_when_supply_covers_demand(inputs, margin, mode):
    total = inputs["demand_total"]
    china = (total * np.float32(1 + margin) * np.float32(0.6)).astype(np.float32)
    other = (total * np.float32(1 + margin) * np.float32(0.41)).astype(np.float32)
    zero_stock = np.zeros_like(inputs["stock0"])
    short = run(
        inputs, supply_china=china, supply_other=other, stock0=zero_stock, mode=kernels.MODES[mode]
    )
    assert (short <= kernels.SHARE_TOL * inputs["demand"]).all()


@SETTINGS
@given(kernel_inputs(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_shortage_grows_with_the_cut(inputs, cut_a, cut_b):
    lo, hi = sorted((cut_a, cut_b))
    china = inputs["supply_china"]
    # without substitution: a deeper cut brings substitution forward, which can leave
    # less unmet demand later (test_substitution_never_adds_shortage covers it)
    none = np.zeros_like(inputs["sub_rate"])
    mild = run(inputs, supply_china=(china * np.float32(1 - lo)).astype(np.float32), sub_rate=none)
    deep = run(inputs, supply_china=(china * np.float32(1 - hi)).astype(np.float32), sub_rate=none)
    scale = max(1.0, float(inputs["demand"].max()))
    # month by month and cumulatively, a deeper cut never leaves less unmet demand
    assert (deep >= mild - 1e-4 * scale).all()
    assert (deep.sum(axis=1) >= mild.sum(axis=1) - 1e-3 * scale).all()


@SETTINGS
@given(kernel_inputs(), st.randoms(use_true_random=False))
def test_invariant_to_industry_order(inputs, rnd):
    I = inputs["demand"].shape[2]  # noqa: E741
    perm = list(range(I))
    rnd.shuffle(perm)
    perm = np.array(perm)
    inverse = np.argsort(perm)  # new position of old industry i
    permuted = {
        **inputs,
        "demand": inputs["demand"][:, :, perm],
        "stock0": inputs["stock0"][:, perm],
        "cap_cover": inputs["cap_cover"][:, perm],
        "deferred_share": inputs["deferred_share"][:, perm],
        "sub_rate": inputs["sub_rate"][:, perm],
        "sub_lag": inputs["sub_lag"][:, perm],
        "eligible": inputs["eligible"][perm],
        "order": inverse[inputs["order"]],
    }
    base = run(inputs)
    shuffled = run(permuted)[:, :, inverse]
    scale = max(1.0, float(inputs["demand"].max()))
    if inputs["mode"] == kernels.PROPORTIONAL:
        np.testing.assert_array_equal(shuffled, base)  # the total is an input: exact
    else:
        np.testing.assert_allclose(shuffled, base, rtol=1e-5, atol=1e-5 * scale)


@SETTINGS
@given(kernel_inputs())
def test_substitution_never_adds_shortage(inputs):
    without = run(inputs, sub_rate=np.zeros_like(inputs["sub_rate"]))
    with_sub = run(inputs)
    scale = max(1.0, float(inputs["demand"].max()))
    assert (with_sub <= without + 1e-4 * scale).all()
    # and it does cut unmet demand somewhere once shortages last beyond the lag
    long_short = {**inputs, "supply_china": np.zeros_like(inputs["supply_china"])}
    zero = {"supply_other": np.zeros_like(inputs["supply_other"]), "stock0": 0 * inputs["stock0"]}
    a = run(long_short, **zero, sub_rate=np.zeros_like(inputs["sub_rate"]))
    b = run(long_short, **zero)
    cut = (inputs["sub_rate"] > 0) & (inputs["sub_lag"] < inputs["demand"].shape[1] - 1)
    late = (inputs["demand"] > 0).all(axis=1)  # short every month: z grows each month
    if (cut & late).any():
        assert b[:, -1][cut & late].sum() < a[:, -1][cut & late].sum()
