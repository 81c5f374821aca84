"""Monte Carlo against independent oracles: published generator outputs, exact expectations, exact paths.

Every test names its oracle, and none of them is a number produced by the Monte Carlo itself:

* the random streams are pinned to outputs published for the reference C generators (``splitmix64.c`` and
  ``xoshiro256plus.c`` by Blackman and Vigna, https://prng.di.unimi.it/) and to a pure-Python transcription of
  them written here on integers of unbounded size;
* counts are compared with the exact expectation of the linear chain (``biodist.simulate``), with tolerances of
  ``Z = 5`` binomial standard errors: a count of ``n`` cells with probability ``p`` has variance ``n p (1 - p)``,
  so the mean over ``R`` replicates is within ``5 sqrt(n p (1 - p) / R)`` of ``n p`` except with probability
  ~6e-7 per comparison;
* whole paths of single cells through hand-made tables are predicted exactly, draw by draw, from the Python
  generator (entry and jump times are then known to the last bit, so report times can be set equal to them);
* the per-cell counts at one time are tested as the multinomial that independence makes them (pooled binomial
  tests, chi-square of the histogram, sample variance, and the dispersion of Pearson's statistic), at
  significance ``ALPHA = 1e-3`` (Bonferroni-corrected where several tests share one sample).

Seeds are fixed, so every statistical test is deterministic; a wrong sampler fails them by many standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from tests.conftest import DEFAULT_SCENARIO

import biodist
from biodist.model import compile_model
from biodist.solvers.montecarlo._kernels import _splitmix64, seed_stream, uniform, walk_cells
from biodist.solvers.montecarlo._twin import walk_cells_numpy
from biodist.solvers.montecarlo.tables import ChainTables, chain_tables

MASK64 = (1 << 64) - 1
#: Standard errors allowed between a mean and its exact expectation.
Z = 5.0
#: Significance of the distributional tests.
ALPHA = 1e-3

# ---- published reference outputs --------------------------------------------------------------------------------
#: splitmix64 seeded with 1234567: its first five outputs (Rosetta Code, "Pseudo-random numbers/Splitmix64",
#: computed with Vigna's splitmix64.c; the same five are checked in many independent ports).
SPLITMIX64_1234567 = (
    6457827717110365317,
    3203168211198807973,
    9817491932198370423,
    4593380528125082431,
    16408922859458223821,
)
#: splitmix64 seeded with 1477776061723855037: the first outputs of the reference test of rust-random/rngs,
#: rand_xoshiro/src/splitmix64.rs ("produced with the reference implementation ... splitmix64.c").
SPLITMIX64_1477776061723855037 = (
    1985237415132408290,
    2979275885539914483,
    13511426838097143398,
    8488337342461049707,
    15141737807933549159,
)
#: xoshiro256+ from the state (1, 2, 3, 4): its first ten outputs, from rust-random/rngs,
#: rand_xoshiro/src/xoshiro256plus.rs ("produced with the reference implementation ... xoshiro256plus.c").
XOSHIRO256PLUS_1234 = (
    5,
    211106232532999,
    211106635186183,
    9223759065350669058,
    9250833439874351877,
    13862484359527728515,
    2346507365006083650,
    1168864526675804870,
    34095955243042024,
    3466914240207415127,
)


# ---- the reference generators, transcribed from the C sources on Python integers ----------------------------------
def splitmix64_reference(seed: int, n: int) -> list[int]:
    """First ``n`` outputs of ``splitmix64.c`` (``next()``) from state ``seed``."""
    x, out = seed & MASK64, []
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256PlusReference:
    """``xoshiro256plus.c``: ``next()`` on a four-word state, and the double ``(x >> 11) * 2^-53`` in [0, 1)."""

    def __init__(self, state: list[int]) -> None:
        self.s = [w & MASK64 for w in state]

    @classmethod
    def seeded(cls, seed: int) -> Xoshiro256PlusReference:
        """The state filled with the first four splitmix64 outputs of ``seed`` (as the authors recommend)."""
        return cls(splitmix64_reference(seed, 4))

    def next(self) -> int:
        s = self.s
        result = (s[0] + s[3]) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def random(self) -> float:
        return (self.next() >> 11) * 2.0**-53


# ---- 1. the random streams --------------------------------------------------------------------------------------
def test_python_references_reproduce_the_published_outputs():
    """Oracle: published outputs of the reference C generators (checks the transcriptions used below)."""
    assert splitmix64_reference(1234567, 5) == list(SPLITMIX64_1234567)
    assert splitmix64_reference(1477776061723855037, 5) == list(SPLITMIX64_1477776061723855037)
    ref = Xoshiro256PlusReference([1, 2, 3, 4])
    assert [ref.next() for _ in XOSHIRO256PLUS_1234] == list(XOSHIRO256PLUS_1234)


@pytest.mark.parametrize(
    ("seed", "published"), [(1234567, SPLITMIX64_1234567), (1477776061723855037, SPLITMIX64_1477776061723855037)]
)
def test_kernel_splitmix64_gives_the_published_outputs(seed, published):
    """Oracle: published splitmix64 outputs; the state must advance by the golden-ratio increment 0x9E3779B97F4A7C15."""
    x = seed
    for k, expected in enumerate(published, start=1):
        x, z = (int(w) for w in _splitmix64(np.uint64(x)))
        assert z == expected, k
        assert x == (seed + k * 0x9E3779B97F4A7C15) & MASK64


@pytest.mark.parametrize("seed", [0, 1, 1234567, 2**63 - 1, 2**63, 2**64 - 1, 0xDEADBEEFCAFEF00D])
def test_seed_stream_is_the_splitmix64_expansion(seed):
    """Oracle: the documented seeding (state = first four splitmix64 outputs of the chunk's seed), in pure Python.

    Seeds above 2^63 are included: chunk seeds are full 64-bit words.
    """
    state = np.empty(4, dtype=np.uint64)
    seed_stream(np.uint64(seed), state)
    assert [int(w) for w in state] == splitmix64_reference(seed, 4)
    if seed == 1234567:
        assert [int(w) for w in state] == list(SPLITMIX64_1234567[:4])


def _kernel_raw_and_uniform(state: np.ndarray) -> tuple[int, float]:
    """The kernel's next output: the raw word ``s0 + s3`` read from its state, then its double (state advanced)."""
    raw = (int(state[0]) + int(state[3])) & MASK64
    return raw, float(uniform(state))


def test_kernel_xoshiro256plus_gives_the_published_outputs():
    """Oracle: the ten published xoshiro256+ outputs from state (1, 2, 3, 4); the doubles ``(x >> 11) 2^-53``.

    The raw word of each step is read from the kernel's own state (xoshiro256+ outputs ``s0 + s3`` of the state
    before the step), so a wrong shift or rotation (17, 45), a wrong xor order or a wrong output map fails here.
    """
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    for k, expected in enumerate(XOSHIRO256PLUS_1234):
        raw, u = _kernel_raw_and_uniform(state)
        assert raw == expected, k
        assert u == (expected >> 11) * 2.0**-53, k


def test_kernel_stream_follows_the_reference_for_many_steps():
    """Oracle: the pure-Python xoshiro256+ seeded by splitmix64, 5,000 steps from three chunk seeds, every state word.

    Comparing the whole state after every step catches constants whose effect would reach the output only later.
    """
    for seed in (7, 2**64 - 2, 0x0123456789ABCDEF):
        state = np.empty(4, dtype=np.uint64)
        seed_stream(np.uint64(seed), state)
        ref = Xoshiro256PlusReference.seeded(seed)
        for k in range(5000):
            u = float(uniform(state))
            assert u == ref.random(), (seed, k)
            assert [int(w) for w in state] == ref.s, (seed, k)


def test_uniform_maps_the_extreme_words_into_the_half_open_unit_interval():
    """Oracle: (x >> 11) 2^-53 at x = 0 and x = 2^64 - 1: exactly 0 and 1 - 2^-53 (never 1, so log(1 - u) is finite)."""
    assert uniform(np.array([0, 5, 9, 0], dtype=np.uint64)) == 0.0
    assert uniform(np.array([MASK64, 5, 9, 0], dtype=np.uint64)) == 1.0 - 2.0**-53


# ---- helpers for the scenario tests ------------------------------------------------------------------------------
def scenario(**over) -> biodist.Scenario:
    return biodist.load_scenario(DEFAULT_SCENARIO, over)


def exact_fractions(sc: biodist.Scenario) -> tuple[tuple[str, ...], np.ndarray]:
    """Oracle: the exact solution of the linear chain, as the probability of each compartment at each time (C, T)."""
    sim = biodist.simulate(sc)
    p = np.array([sim.cells(c) for c in sim.compartments]) / sc.dose_cells
    return tuple(sim.compartments), np.clip(p, 0.0, 1.0)


def assert_means_within_binomial_se(counts: np.ndarray, p: np.ndarray, n: int, where: str = "") -> None:
    """Mean over replicates of every count within ``Z`` binomial SEs of ``n p``; exact where ``p`` is 0 or 1.

    ``counts`` (R, C, T), ``p`` (C, T). SE of the mean of R independent Binomial(n, p) counts: sqrt(n p (1-p) / R).
    """
    r = counts.shape[0]
    mean = counts.mean(axis=0)
    se = np.sqrt(n * p * (1 - p) / r)
    exact = (p == 0.0) | (p == 1.0)
    assert (counts[:, exact] == np.rint(n * p[exact])).all(), where
    bad = np.argwhere(~exact & (np.abs(mean - n * p) >= Z * se))
    assert not len(bad), (where, [(tuple(i), mean[tuple(i)], n * p[tuple(i)], se[tuple(i)]) for i in bad])


# ---- 2. report time 0 ----------------------------------------------------------------------------------------------
ROUTES_AT_ZERO = {
    "iv bolus": {},
    "iv infusion": {"infusion_minutes": 30},
    "intra-arterial infusion": {"route": "intra_arterial", "target": "brain", "infusion_minutes": 30},
    "direct bolus": {"route": "direct", "target": "knee"},
}


@pytest.mark.parametrize("method", ["per_cell", "aggregated"])
@pytest.mark.parametrize("times_h", [[0.0], [0.0, 0.25]], ids=["only-0", "0-and-0.25"])
@pytest.mark.parametrize("route", list(ROUTES_AT_ZERO))
def test_report_time_zero_matches_the_exact_solution(route, times_h, method):
    """Oracle: ``biodist.simulate`` (exact) at 0 and during the infusion; binomial SEs (Z = 5) per compartment.

    At time 0 a bolus is entirely given (multinomial over the start states: venous blood or cleared, the target's
    territory, the depot), while an infusion has given nothing: every count is exactly 0 — also when 0 is the only
    report time, where the aggregated sampler used to place every cell as if the infusion were a bolus.
    """
    sc = scenario(times_h=times_h, **ROUTES_AT_ZERO[route])
    n, replicates = 2000, 200
    res = biodist.monte_carlo(sc, n_cells=n, replicates=replicates, seed=21, method=method)
    names, p = exact_fractions(sc)
    assert res.compartments == names
    if sc.infusion_minutes > 0:
        assert (p[:, 0] == 0.0).all()  # the oracle itself: nothing administered at 0
        assert (res.counts[:, :, 0] == 0).all()
    else:
        assert p[:, 0].sum() == pytest.approx(1.0)
        assert (res.counts[:, :, 0].sum(axis=1) == n).all()
    assert_means_within_binomial_se(res.counts, p, n, f"{route} {times_h} {method}")


# ---- 3. report times equal to entry (and jump) times ----------------------------------------------------------------
def test_cells_placed_at_zero_are_counted_at_zero():
    """Oracle: definition (a cell placed in a state at t is in it at t) and the exact start distribution.

    An intra-arterial bolus places most cells in the target at t = 0: at report time 0 they are present *and* have
    arrived (cumulative arrivals at 0 = cells in the target at 0, exactly), and the first arrival is 0.
    A direct injection places cells in the depot at 0: they are counted there at 0 (Z = 5 binomial SEs).
    """
    sc = scenario(route="intra_arterial", target="brain", times_h=[0.0, 1.0])
    res = biodist.monte_carlo(sc, n_cells=5000, replicates=20, seed=31)
    target = res.index("brain")
    assert (res.counts[:, target, 0] > 0).all()
    np.testing.assert_array_equal(res.histories["cumulative_arrivals"][:, 0], res.counts[:, target, 0])
    assert (res.histories["first_arrival_h"] == 0.0).all()
    _, p = exact_fractions(sc)
    assert_means_within_binomial_se(res.counts[:, :, :1], p[:, :1], 5000, "intra-arterial bolus at 0")

    # the same with 0 as the only (so the last) report time: placed at the end of the walk, still an arrival
    sc = scenario(route="intra_arterial", target="brain", times_h=[0.0])
    res = biodist.monte_carlo(sc, n_cells=5000, replicates=20, seed=33)
    assert (res.counts[:, target, 0] > 0).all()
    np.testing.assert_array_equal(res.histories["cumulative_arrivals"][:, 0], res.counts[:, target, 0])
    assert (res.histories["first_arrival_h"] == 0.0).all()

    sc = scenario(route="direct", target="knee", times_h=[0.0, 24.0])
    res = biodist.monte_carlo(sc, n_cells=5000, replicates=20, seed=32)
    _, p = exact_fractions(sc)
    assert p[res.index("depot"), 0] > 0.5
    assert_means_within_binomial_se(res.counts, p, 5000, "direct bolus")


# A hand-made chain for exact paths: 0 venous, 1 arterial, 2 lung, 3 target, 4 cleared. Half of the cells are placed
# in the target (as by an intra-arterial first pass), half in venous blood, from which they jump to the target at
# rate 2/h; every other state is absorbing. Cells enter at uniform times over an infusion of 0.5 h.
_V, _A, _L, _T, _X = range(5)
_RATE, _INFUSION = 2.0, 0.5


def _hand_tables() -> ChainTables:
    start = np.array([[0.5, 0.5, 0.5, 1.0, 1.0]])
    rate = np.zeros((1, 1, 5))
    rate[0, 0, _V] = _RATE
    dest_cum = np.tile([0.0, 0.0, 0.0, 0.0, 1.0], (1, 1, 5, 1))  # rows of absorbing states: never used
    dest_cum[0, 0, _V] = [0.0, 0.0, 0.0, 1.0, 1.0]  # venous -> target
    return ChainTables(np.ones((1, 1)), start, rate, dest_cum, np.array([_INFUSION]))


def _predicted_path(seed: int) -> tuple[int, float, float]:
    """(start state, entry time, arrival time in the target) of a chunk's first cell, from the reference generator.

    The kernel draws, for one diameter class: the start state (first ``j`` with ``u < start_cum[j]``), the entry
    time ``entry_h u``, then in a state with exit rate ``q`` the holding time ``-log(1 - u) / q`` and the jump.
    """
    ref = Xoshiro256PlusReference.seeded(seed)
    start = _V if ref.random() < 0.5 else _T
    t0 = _INFUSION * ref.random()
    if start == _T:
        return start, t0, t0
    return start, t0, t0 - math.log(1.0 - ref.random()) / _RATE


def _run_hand_kernel(seeds: list[int], times: np.ndarray) -> dict[str, np.ndarray]:
    """One cell per chunk, each chunk seeded with one of ``seeds``, through the numba kernel."""
    tables = _hand_tables()
    m, n_states, n_times = len(seeds), 5, len(times)
    out = {
        "counts": np.zeros((m, n_states, n_times), np.int64),
        "arrivals": np.zeros((m, n_times), np.int64),
        "first_arrival": np.zeros(m, np.float64),
        "lung_passes": np.zeros(m, np.int64),
        "circulating_h": np.zeros(m, np.float64),
        "transits": np.zeros(m, np.int64),
        "class_cells": np.zeros((m, 1), np.int64),
        "class_passed": np.zeros((m, 1), np.int64),
    }
    walk_cells(
        np.ones(m, np.int64),
        np.array(seeds, dtype=np.uint64),
        np.zeros(m, np.int64),
        tables.class_cum,
        tables.start_cum,
        tables.exit_rate,
        tables.dest_cum,
        tables.entry_h,
        times,
        _T,
        _V,
        _A,
        _L,
        *out.values(),
    )
    return out


def test_report_times_equal_to_entry_and_jump_times_count_the_cell_exactly():
    """Oracle: exact single-cell paths predicted from the reference generator; report times set to their event times.

    Sample paths are right-continuous: at a report time equal to a cell's entry time the cell is in its start state
    (and, placed in the target, has arrived); at a report time equal to its jump time it is in the new state and has
    arrived. Report times only cover part of the cells' events, so some cells enter, or would arrive, after the last
    report time: they must not count, and their first arrival is ``inf`` (none by the last report time).
    """
    paths = {seed: _predicted_path(seed) for seed in range(1, 41)}
    # report times: the entry and arrival times of the first 24 cells; the others' events fall in between or after
    times = np.unique([t for seed in range(1, 25) for t in paths[seed][1:] if t < 0.45])
    t_end = times[-1]
    seeds = list(paths)
    starts, t0, t1 = (np.array(x) for x in zip(*paths.values(), strict=True))
    # the construction covers every case: placed cells and jumpers reported at their events, both beyond t_end
    late_placed = (starts == _T) & (t0 > t_end)
    assert np.isin(t0[starts == _T], times).sum() >= 3 and np.isin(t1[starts == _V], times).sum() >= 3
    assert late_placed.any() and ((starts == _V) & (t0 <= t_end) & (t1 > t_end)).any()

    out = _run_hand_kernel(seeds, times)
    for c in range(len(seeds)):
        expected = np.zeros((5, len(times)), np.int64)
        expected[starts[c], (times >= t0[c]) & (times < t1[c])] = 1
        expected[_T, times >= t1[c]] = 1
        np.testing.assert_array_equal(out["counts"][c], expected, err_msg=f"seed {seeds[c]}")
        np.testing.assert_array_equal(out["arrivals"][c], (times >= t1[c]).astype(np.int64), err_msg=f"{seeds[c]}")
        assert out["first_arrival"][c] == (t1[c] if t1[c] <= t_end else math.inf), seeds[c]
        blood = max(min(t1[c], t_end) - t0[c], 0.0) if starts[c] == _V else 0.0
        assert out["circulating_h"][c] == pytest.approx(blood, rel=1e-12, abs=0.0), seeds[c]
    assert (out["lung_passes"] == 0).all() and (out["transits"] == 0).all() and (out["class_cells"] == 1).all()


# ---- 4. the counts are multinomial -----------------------------------------------------------------------------------
def _pooled_chisquare_pvalue(values: np.ndarray, pmf: np.ndarray) -> float:
    """Chi-square p-value of integer samples against a pmf on 0..len(pmf)-1, bins pooled to expected counts >= 5."""
    observed = np.bincount(values, minlength=len(pmf))[: len(pmf)].astype(float)
    expected = len(values) * pmf
    o_bins, e_bins, o_acc, e_acc = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        o_acc, e_acc = o_acc + o, e_acc + e
        if e_acc >= 5.0:
            o_bins.append(o_acc)
            e_bins.append(e_acc)
            o_acc = e_acc = 0.0
    o_bins[-1] += o_acc
    e_bins[-1] += e_acc
    return float(stats.chisquare(o_bins, np.asarray(e_bins) * sum(o_bins) / sum(e_bins)).pvalue)


@pytest.mark.parametrize("method", ["per_cell", "aggregated"])
def test_counts_at_a_time_are_multinomial_with_the_exact_probabilities(method):
    """Oracle: independence of cells makes the counts at one time Multinomial(n, p), p from ``biodist.simulate``.

    With n = 500 cells and R = 1500 replicates, at 1 h and 24 h (half of the cells pass the lung, 30 % lodge per
    systemic pass, so that several organs hold cells):

    * every compartment's count summed over replicates is Binomial(R n, p): exact binomial test, p > ALPHA / tests;
    * the histogram of a compartment's count is Binomial(n, p): chi-square (bins with >= 5 expected), p > ALPHA / tests;
    * its sample variance is n p (1 - p) within Z SEs, SE = n p (1 - p) sqrt(2 / (R - 1)) (normal theory; the
      binomial's excess kurtosis (1 - 6 p q) / (n p q) is < 0.03 here);
    * jointly (compartments with n p < 5 lumped), Pearson's statistic X² of each replicate has the exact mean k - 1 and
      variance 2 (k - 1) + (Σ 1/p_i - k² - 2 k + 2) / n; its mean over replicates is tested within Z SEs.
    """
    sc = scenario(times_h=[1.0, 24.0], **{"cell.lung_pass_fraction": 0.5, "cell.retention_per_pass.default": 0.3})
    n, replicates = 500, 1500
    res = biodist.monte_carlo(sc, n_cells=n, replicates=replicates, seed=41, method=method)
    _, p_all = exact_fractions(sc)
    n_tests = int((p_all > 0).sum())
    for j in range(len(res.times_h)):
        counts, p = res.counts[:, :, j], p_all[:, j]
        assert (counts.sum(axis=1) == n).all()
        for i in np.flatnonzero(p > 0):
            pooled = stats.binomtest(int(counts[:, i].sum()), n * replicates, float(p[i])).pvalue
            assert pooled > ALPHA / n_tests, (res.compartments[i], j, pooled)
        for i in np.flatnonzero(n * p * (1 - p) > 10):
            pmf = stats.binom.pmf(np.arange(n + 1), n, p[i])
            assert _pooled_chisquare_pvalue(counts[:, i], pmf) > ALPHA / n_tests, (res.compartments[i], j)
            var = n * p[i] * (1 - p[i])
            assert abs(counts[:, i].var(ddof=1) - var) < Z * var * math.sqrt(2 / (replicates - 1)), (i, j)
        big = n * p >= 5
        lumped = np.column_stack([counts[:, big], counts[:, ~big].sum(axis=1)])
        q = np.append(p[big], p[~big].sum())
        lumped, q = lumped[:, q > 0], q[q > 0]
        k = len(q)
        assert k >= 4  # a real multinomial: several compartments hold cells
        x2 = (((lumped - n * q) ** 2) / (n * q)).sum(axis=1)
        var_x2 = 2 * (k - 1) + ((1 / q).sum() - k * k - 2 * k + 2) / n
        assert abs(x2.mean() - (k - 1)) < Z * math.sqrt(var_x2 / replicates), (j, x2.mean(), k - 1)


# ---- 5. first arrivals of cells placed in the target by an infusion ------------------------------------------------
@pytest.mark.parametrize("times_h", [[0.0], [0.002], [0.0, 0.001]])
def test_first_arrival_is_never_after_the_last_report_time(times_h):
    """Oracle: definition — the first arrival is the earliest arrival by the last report time, ``inf`` if none.

    An intra-arterial infusion into the brain places 87 % of the cells in the target as they enter, at uniform times
    over 30 min. With report times ending at 0 or a few seconds in, most cells enter later: their arrival happens
    after the last report time and must not be reported. So in every replicate the first arrival is at most the last
    report time, and it is finite exactly when some cell had arrived by then (cumulative arrivals > 0).
    """
    sc = scenario(route="intra_arterial", target="brain", infusion_minutes=30, times_h=times_h)
    res = biodist.monte_carlo(sc, n_cells=20, replicates=200, seed=51)
    first = res.histories["first_arrival_h"]
    arrived = res.histories["cumulative_arrivals"][:, -1] > 0
    assert not (first[np.isfinite(first)] > res.times_h[-1]).any(), first[first > res.times_h[-1]]
    np.testing.assert_array_equal(np.isfinite(first), arrived)
    if res.times_h[-1] == 0.0:
        assert np.isinf(first).all()
    else:
        assert arrived.any() and not arrived.all()  # both kinds of replicate occur (P(arrived) is 3-7 %)


def test_numpy_twin_first_arrival_is_never_after_the_last_report_time():
    """Oracle: definition, for the numpy twin of the kernel on the same chain (it shares the rule, and the bug had)."""
    sc = scenario(route="intra_arterial", target="brain", infusion_minutes=30, times_h=[0.002])
    model = compile_model(sc)
    tables = chain_tables([(model.weights, model.cell_chains)])
    idx = [model.index(x) for x in ("brain", "venous_blood", "arterial_blood", "lung")]
    rng = np.random.default_rng(52)
    reached = 0
    for _ in range(100):
        out = walk_cells_numpy(tables, 0, 20, np.asarray(sc.times_h), *idx, rng)
        first = float(out["first_arrival"])
        assert math.isinf(first) == (out["arrivals"][-1] == 0)
        assert math.isinf(first) or first <= sc.times_h[-1]
        reached += math.isfinite(first)
    assert 0 < reached < 100


@pytest.mark.parametrize("route", ["iv", "intra_arterial", "direct"])
def test_numpy_twin_counts_every_cell_at_its_entry_time(route):
    """Oracle: definition, for the numpy twin: a cell placed in a state at t is in it at t. With a bolus every cell
    (viable or not) is somewhere at report time 0, so the counts at 0 add up to the cells walked, exactly."""
    target = {"iv": "knee", "intra_arterial": "brain", "direct": "knee"}[route]
    sc = scenario(route=route, target=target, times_h=[0.0, 1.0])
    model = compile_model(sc)
    tables = chain_tables([(model.weights, model.cell_chains)])
    idx = [model.index(x) for x in (target, "venous_blood", "arterial_blood", "lung")]
    out = walk_cells_numpy(tables, 0, 2000, np.asarray(sc.times_h), *idx, np.random.default_rng(61))
    assert out["counts"][:, 0].sum() == 2000
    assert out["counts"][:, 1].sum() == 2000
