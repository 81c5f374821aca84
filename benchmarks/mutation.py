"""Mutation score of the test suite over the numerical core: how many plausible bugs the tests catch.

Each mutant is one exact source snippet of the numerical core (the compartment model, the linear
solver, the Monte Carlo kernels and samplers, the uncertainty draws) replaced by a plausible bug:
a rate written ``1/t½`` instead of ``ln 2/t½``, cells released into the wrong blood, a report time
compared with ``<`` where ``<=`` is meant, a constant of the random-number generator changed...
For every mutant the repository's ``src``, ``tests``, ``configs``, ``pyproject.toml``, ``README.md``
and ``notebooks`` (from ``HEAD``, or the working tree with ``--source worktree``) are copied into a
scratch folder, the snippet (which must occur exactly once) is replaced there — never in the
repository — and pytest runs in that folder on the selection

    -m "not slow and not pinned" -x -q -p no:cacheprovider --ignore=tests/fuzz --ignore=tests/faults tests

(``--pinned`` drops ``and not pinned``: the tests comparing with pasted numbers count too). The
run imports ``biodist`` from the scratch copy (``PYTHONPATH``; the editable install of the
repository comes later on ``sys.path``) and aborts unless ``biodist.__file__`` lies in it; every
mutant gets a fresh ``NUMBA_CACHE_DIR``, so no compiled kernel of another run is reused.

What counts:

* ``killed``: pytest exits with failures (1), collection errors (2) or an internal error (3), and
  the failed tests fail again when run alone (a test that then passes failed for another reason —
  a timing-sensitive test on a loaded machine: it is deselected, listed as ``unconfirmed``, and the
  selection runs again);
* ``survived``: pytest exits 0 — no test sees the bug;
* ``timeout``: the run exceeded ``--timeout`` seconds (reported apart, not counted as killed);
* ``equivalent`` mutants (a change no reasonable test can see, with the numbers that say so in
  their ``why``) are listed but neither run (unless ``--run-equivalent``) nor scored.

The unmutated baseline runs first and must pass, else the run aborts. The score is
``killed / (mutants - equivalent)``. Progress goes to stderr; one JSON object to stdout:

    {"mutants", "equivalent", "killed", "survived": [ids], "timeouts": [ids], "errors", "unconfirmed",
     "score", "selection", "seconds", "source",
     "results": [{"id", "outcome", "returncode", "seconds", "failed", "what"}],
     "equivalent_mutants": [{"id", "what", "why"}]}

Run (about 30-80 s per mutant on two cores)::

    python benchmarks/mutation.py [--jobs 2] [--only ID[,ID]] [--list] [--pinned] [--json out.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What a scratch copy holds (the tests read configs, README.md and notebooks through the repository's root).
COPIED = ("src", "tests", "configs", "pyproject.toml", "README.md", "notebooks")
SELECTION = ["-x", "-q", "-p", "no:cacheprovider", "--ignore=tests/fuzz", "--ignore=tests/faults", "tests"]
MARKERS = {False: "not slow and not pinned", True: "not slow"}
#: Exit codes of pytest that mean the mutant broke a test: failures, collection errors, internal error.
KILLED_CODES = (1, 2, 3)
#: Exit code of the boot code below when the scratch copy is not what was imported.
WRONG_IMPORT = 97

#: Runs pytest after checking that biodist is imported from the scratch folder (argv[1]).
BOOT = """
import os, sys
root = os.path.realpath(sys.argv.pop(1))
import biodist
where = os.path.realpath(biodist.__file__)
if not where.startswith(root + os.sep):
    print(f"biodist imported from {where}, not from the scratch copy {root}", file=sys.stderr)
    sys.exit(97)
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class Mutant:
    """One bug: in ``file`` (relative to the repository) the snippet ``find`` becomes ``replace``."""

    id: str
    file: str
    find: str
    replace: str
    what: str
    equivalent: bool = False
    why: str = ""


CIRC = "src/biodist/model/circulation.py"
SIZE = "src/biodist/model/size.py"
CHAIN = "src/biodist/model/chain.py"
COMPILE = "src/biodist/model/compile.py"
LABEL = "src/biodist/model/label.py"
READOUTS = "src/biodist/model/readouts.py"
LINEAR = "src/biodist/solvers/linear.py"
DECOMP = "src/biodist/solvers/decomposition.py"
EXPECTED = "src/biodist/solvers/expected.py"
KERNELS = "src/biodist/solvers/montecarlo/_kernels.py"
TWIN = "src/biodist/solvers/montecarlo/_twin.py"
AGG = "src/biodist/solvers/montecarlo/aggregated.py"
PER_CELL = "src/biodist/solvers/montecarlo/per_cell.py"
TABLES = "src/biodist/solvers/montecarlo/tables.py"
SUBJECTS = "src/biodist/solvers/montecarlo/subjects.py"
UNCERTAINTY = "src/biodist/config/uncertainty.py"
CELL = "src/biodist/config/cell.py"
SPECIES = "src/biodist/config/species.py"
TRACERS = "src/biodist/model/tracers.py"

MUTANTS: list[Mutant] = [
    # ---- rates -------------------------------------------------------------------------------------
    Mutant(
        "rate-ln2",
        CELL,
        "    return math.log(2.0) / half_life_h\n",
        "    return 1.0 / half_life_h\n",
        "every scalar half-life turned into a rate as 1/t½ instead of ln 2/t½",
    ),
    Mutant(
        "lodged-rate-ln2",
        CIRC,
        '"lodged_clearance_per_h": half_life_to_rate(cell.lodged_half_life_h)',
        '"lodged_clearance_per_h": 1.0 / cell.lodged_half_life_h',
        "cells lodged in systemic beds die at 1/t½ instead of ln 2/t½",
    ),
    Mutant(
        "lung-rate-ln2",
        CIRC,
        '"lung_clearance_per_h": half_life_to_rate(cell.lung_half_life_h)',
        '"lung_clearance_per_h": 1.0 / cell.lung_half_life_h',
        "lung-lodged cells die at 1/t½ instead of ln 2/t½",
    ),
    Mutant(
        "debris-uptake-ln2",
        LABEL,
        "k_uptake = half_life_to_rate(params.debris_half_life_h)",
        "k_uptake = 1.0 / params.debris_half_life_h",
        "label uptake of debris by liver and spleen at 1/t½ instead of ln 2/t½",
    ),
    Mutant(
        "arterial-venous-volume",
        CIRC,
        '"arterial_to_beds_per_h": species.cardiac_output_l_per_h / species.arterial_volume_l',
        '"arterial_to_beds_per_h": species.cardiac_output_l_per_h / species.venous_volume_l',
        "arterial blood leaves at CO / V_venous (the arterial rate with the venous volume)",
    ),
    Mutant(
        "venous-volume",
        SPECIES,
        "return self.blood_volume_fraction_bw * self.body_weight_kg * (1.0 - self.arterial_blood_fraction)",
        "return self.blood_volume_fraction_bw * self.body_weight_kg",
        "venous blood volume taken as the whole blood volume",
    ),
    Mutant(
        "arterial-clearance",
        CIRC,
        'moves += [(blood, CLEARED, rates["circulating_clearance_per_h"]) for blood in (VENOUS, ARTERIAL)]',
        'moves += [(blood, CLEARED, rates["circulating_clearance_per_h"]) for blood in (VENOUS,)]',
        "circulating cells cleared from venous blood only (no arterial clearance)",
    ),
    # ---- circulation ---------------------------------------------------------------------------------
    Mutant(
        "lung-release-venous",
        CIRC,
        '(LUNG, ARTERIAL, rates["lung_release_per_h"])',
        '(LUNG, VENOUS, rates["lung_release_per_h"])',
        "cells released from the lung go to venous blood instead of arterial",
    ),
    Mutant(
        "depot-leak-arterial",
        CIRC,
        '(DEPOT, VENOUS, rates["depot_leak_per_h"])',
        '(DEPOT, ARTERIAL, rates["depot_leak_per_h"])',
        "a direct injection's depot leaks into arterial blood instead of venous",
    ),
    Mutant(
        "portal-skips-liver",
        CIRC,
        "        passed = share * (1.0 - retained)\n        downstream = species.drains_to(organ)\n",
        "        passed = share * (1.0 - retained)\n        downstream = None\n",
        "gut and spleen outflow returns to venous blood without crossing the liver's bed",
    ),
    Mutant(
        "engrafted-depot-rate",
        CIRC,
        '(ENGRAFTED, CLEARED, rates["engrafted_clearance_per_h"])',
        '(ENGRAFTED, CLEARED, rates["depot_death_per_h"])',
        "engrafted cells die at the depot's rate",
    ),
    Mutant(
        "first-pass-no-p-pass",
        CIRC,
        "o: entry.get(o, 0.0) + venous_share * p_pass * split[o] for o in organs",
        "o: entry.get(o, 0.0) + venous_share * split[o] for o in organs",
        "first pass into systemic beds forgets that only the fraction p_pass got through the lung",
    ),
    Mutant(
        "direct-first-pass-no-engrafted",
        CIRC,
        "first_pass[scenario.target] += entry[DEPOT] + entry[ENGRAFTED]",
        "first_pass[scenario.target] += entry[DEPOT]",
        "a direct injection's first pass at the target forgets the engrafted cells",
    ),
    Mutant(
        "territory-not-normalised",
        CIRC,
        "shares = {b: (f / total if total > 0 else 1.0 / len(flows)) for b, f in flows.items()}",
        "shares = {b: f for b, f in flows.items()}",
        "intra-arterial territory shares left as fractions of cardiac output (not normalised to 1)",
    ),
    Mutant(
        "injury-not-capped",
        CIRC,
        "retention[target] = np.minimum(1.0, retention[target] * factor)",
        "retention[target] = retention[target] * factor",
        "the injured target's retention may exceed 1",
    ),
    Mutant(
        "perfusion-ignored",
        CIRC,
        "species, cell = scenario.effective_species(), scenario.cell",
        "species, cell = scenario.species, scenario.cell",
        "target_perfusion ignored: the chain uses the species' unscaled flows",
    ),
    Mutant(
        "non-viable-as-viable",
        CIRC,
        "viable_cells=scenario.dose_cells * cell.viable_fraction,",
        "viable_cells=scenario.dose_cells,",
        "non-viable cells counted as viable",
    ),
    # ---- size model ----------------------------------------------------------------------------------
    Mutant(
        "size-beds-lung-diameter",
        SIZE,
        "1.0 - pass_probability(diameters_um, phi * diameters[o], sd)",
        "1.0 - pass_probability(diameters_um, phi * diameters[LUNG], sd)",
        "size model: every systemic bed sieves with the lung's capillary diameter",
    ),
    Mutant(
        "size-beds-default-diameter",
        SIZE,
        "1.0 - pass_probability(diameters_um, phi * diameters[o], sd)",
        "1.0 - pass_probability(diameters_um, phi * species.capillary_diameter_um, sd)",
        "size model: every systemic bed sieves with the species' default capillary diameter",
    ),
    Mutant(
        "size-lung-no-deformability",
        SIZE,
        "lung = pass_probability(diameters_um, phi * diameters[LUNG], sd)",
        "lung = pass_probability(diameters_um, diameters[LUNG], sd)",
        "size model: the lung's pass probability forgets the calibrated deformability φ",
    ),
    Mutant(
        "lognormal-mean",
        SIZE,
        "    mu = math.log(mean_um) - s2 / 2\n",
        "    mu = math.log(mean_um)\n",
        "diameter classes: log of the mean used as the log-median (mean too large by e^{σ²/2})",
    ),
    Mutant(
        "lognormal-variance",
        SIZE,
        "s2 = math.log1p((sd_um / mean_um) ** 2)",
        "s2 = (sd_um / mean_um) ** 2",
        "diameter classes: log-variance taken as CV² instead of ln(1 + CV²)",
    ),
    Mutant(
        "class-weights-unnormalised",
        SIZE,
        "return np.exp(mu + math.sqrt(s2) * x), w / w.sum()",
        "return np.exp(mu + math.sqrt(s2) * x), w",
        "diameter classes: Gauss-Hermite weights not normalised (sum √(2π))",
    ),
    Mutant(
        "mixture-unweighted",
        EXPECTED,
        "return _mix(model.weights, states), None if integrals is None else",
        "return states.mean(axis=0), None if integrals is None else",
        "size model: expected counts the unweighted mean of the classes",
    ),
    Mutant(
        "exposure-mixture-unweighted",
        EXPECTED,
        "None if integrals is None else _mix(model.weights, integrals)",
        "None if integrals is None else integrals.mean(axis=0)",
        "size model: exposure (cell-hours) the unweighted mean of the classes",
    ),
    Mutant(
        "first-pass-mixture-unweighted",
        COMPILE,
        "float(sum(w * c.first_pass[k] for w, c in pairs))",
        "float(sum(c.first_pass[k] for w, c in pairs) / len(pairs))",
        "size model: first-pass fractions the unweighted mean of the classes",
    ),
    # ---- chain, dosing, label, readouts ------------------------------------------------------------
    Mutant(
        "batched-diagonal",
        CHAIN,
        "        q[..., position] -= rate\n",
        "        q[..., position] = -rate\n",
        "batched generator: each diagonal entry set to the last exit rate instead of their sum",
    ),
    Mutant(
        "infusion-rate-not-divided",
        CHAIN,
        "return Chain(states, q, np.zeros(n), dose / float(infusion_h), float(infusion_h))",
        "return Chain(states, q, np.zeros(n), dose, float(infusion_h))",
        "an infusion's input rate is the dose per hour whatever its duration",
    ),
    Mutant(
        "mixed-batch-bolus-too",
        CHAIN,
        "initial = np.where(infusing, 0.0, dose)",
        "initial = dose",
        "a batch mixing boluses and infusions gives the infusions a bolus as well",
    ),
    Mutant(
        "non-viable-dropped",
        COMPILE,
        "entry[CLEARED] = entry.get(CLEARED, 0.0) + (c.dose_cells - c.viable_cells)",
        "entry[CLEARED] = entry.get(CLEARED, 0.0)",
        "cells' chain: the non-viable cells are never placed in cleared",
    ),
    Mutant(
        "label-shares-swapped",
        LABEL,
        "share = {LABEL_LIVER: params.liver_share, LABEL_SPLEEN: 1.0 - params.liver_share}",
        "share = {LABEL_LIVER: 1.0 - params.liver_share, LABEL_SPLEEN: params.liver_share}",
        "label: liver and spleen shares of phagocytosed label swapped",
    ),
    Mutant(
        "dead-cells-in-lung-debris",
        LABEL,
        "dead_site = debris(DEPOT) if DEPOT in circ.states else debris(LUNG)",
        "dead_site = debris(LUNG)",
        "label: a direct injection's non-viable cells start in the lung's debris, not the depot's",
    ),
    Mutant(
        "reflux-label-lost",
        LABEL,
        "lost = circ.viable_cells * circ.entry.get(CLEARED, 0.0)  # reflux at a direct injection",
        "lost = 0.0",
        "label: cells lost at a direct injection (reflux) leave no label in liver and spleen",
    ),
    Mutant(
        "label-without-debris",
        READOUTS,
        "label = {s: [s, debris(s)] for s in living}",
        "label = {s: [s] for s in living}",
        "label readout: an organ's debris not counted as label",
    ),
    Mutant(
        "target-without-depot",
        READOUTS,
        "at_target = [target, *(s for s in (DEPOT, ENGRAFTED) if s in cell_states)]",
        "at_target = [target]",
        "target readout: the depot and engrafted cells of a direct injection not counted at the target",
    ),
    # ---- linear solver -------------------------------------------------------------------------------
    Mutant(
        "fallback-disabled",
        DECOMP,
        "ok = np.isfinite(cond) & (cond <= COND_MAX)",
        "ok = np.isfinite(cond)",
        "ill-conditioned eigenvectors accepted (no fallback to expm unless infinite)",
    ),
    Mutant(
        "batched-fallback-disabled",
        LINEAR,
        "            if len(good) == p:\n",
        "            if len(good) == p or p > 1:\n",
        "a batch (stack of several generators) never falls back to expm for its ill-conditioned members",
    ),
    Mutant(
        "fallback-input-halved",
        LINEAR,
        "        aug[:n, m] = b\n",
        "        aug[:n, m] = b / 2\n",
        "expm fallback: the infusion input column halved",
    ),
    Mutant(
        "phi2-series",
        LINEAR,
        "_PHI2_SERIES = tuple(1.0 / math.factorial(k + 2) for k in range(18))",
        "_PHI2_SERIES = tuple(1.0 / math.factorial(k + 1) for k in range(18))",
        "φ₂ series with the coefficients 1/(k+1)! of φ₁ instead of 1/(k+2)!",
    ),
    Mutant(
        "phi1-series-half",
        LINEAR,
        "out[small] = ss * (1 + zs / 2 + zs * zs / 6)",
        "out[small] = ss * (1 + zs + zs * zs / 6)",
        "φ₁ series: z instead of z/2 (only |z| < 1e-5: relative error up to 5e-6)",
    ),
    Mutant(
        "exposure-no-offset",
        LINEAR,
        "integrals[..., ~during] = i_a + i_s[..., -1:]",
        "integrals[..., ~during] = i_a",
        "exposure after an infusion forgets the cell-hours accumulated during it",
    ),
    Mutant(
        "eigvec-gap-sign",
        DECOMP,
        "gap = w[..., None, :lo] - w[..., lo:hi, None]",
        "gap = w[..., lo:hi, None] - w[..., None, :lo]",
        "level-by-level eigenvectors: λ_i − q_jj with the wrong sign",
    ),
    Mutant(
        "eigvec-inverse-sign",
        DECOMP,
        "v_inv[..., lo:hi, :lo] = -(rows @ v_inv[..., :lo, :lo])",
        "v_inv[..., lo:hi, :lo] = rows @ v_inv[..., :lo, :lo]",
        "level-by-level inverse eigenvectors: the minus sign of the unit-triangular inverse dropped",
    ),
    # ---- uncertainty -------------------------------------------------------------------------------
    Mutant(
        "log-uniform-as-uniform",
        UNCERTAINTY,
        "return np.exp(rng.uniform(math.log(low), math.log(high), n))",
        "return rng.uniform(low, high, n)",
        "log-uniform parameters drawn uniformly",
    ),
    Mutant(
        "gsd-as-log-sd",
        UNCERTAINTY,
        "loc, scale = math.log(self.median), math.log(self.gsd)",
        "loc, scale = math.log(self.median), self.gsd",
        "log-normal: the geometric SD used as the log-SD",
    ),
    Mutant(
        "truncation-dropped",
        UNCERTAINTY,
        "a, b = (low - loc) / scale, (high - loc) / scale",
        "a, b = -np.inf, np.inf",
        "normal and log-normal draws not truncated to [low, high]",
    ),
    Mutant(
        "subjects-share-values",
        SUBJECTS,
        "{k: float(v[r]) for k, v in draws.items()}",
        "{k: float(v[0]) for k, v in draws.items()}",
        "virtual subjects all simulated with the first subject's draw",
    ),
    # ---- Monte Carlo: random numbers -----------------------------------------------------------------
    Mutant(
        "xoshiro-rotation",
        KERNELS,
        "s3 = (s3 << _U(45)) | (s3 >> _U(19))",
        "s3 = (s3 << _U(44)) | (s3 >> _U(20))",
        "xoshiro256+: rotation by 44 instead of 45",
    ),
    Mutant(
        "xoshiro-shift",
        KERNELS,
        "t = s1 << _U(17)",
        "t = s1 << _U(18)",
        "xoshiro256+: shift by 18 instead of 17",
    ),
    Mutant(
        "xoshiro-output",
        KERNELS,
        "result = s0 + s3",
        "result = s0 + s2",
        "xoshiro256+: output s0 + s2 instead of s0 + s3",
    ),
    Mutant(
        "xoshiro-53-bits",
        KERNELS,
        "return float(result >> _U(11)) * _TWO_M53",
        "return float(result >> _U(12)) * _TWO_M53",
        "uniform double from the top 52 bits (>> 12) but scaled by 2^-53: uniforms in [0, 0.5)",
    ),
    Mutant(
        "splitmix-shift",
        KERNELS,
        "z = (z ^ (z >> _U(30))) * _U(0xBF58476D1CE4E5B9)",
        "z = (z ^ (z >> _U(31))) * _U(0xBF58476D1CE4E5B9)",
        "splitmix64: first shift 31 instead of 30",
    ),
    Mutant(
        "splitmix-last-shift",
        KERNELS,
        "return x, z ^ (z >> _U(31))",
        "return x, z ^ (z >> _U(29))",
        "splitmix64: final shift 29 instead of 31",
    ),
    Mutant(
        "splitmix-golden",
        KERNELS,
        "x = x + _U(0x9E3779B97F4A7C15)",
        "x = x + _U(0x9E3779B97F4A7C17)",
        "splitmix64: increment 0x9E3779B97F4A7C17 instead of the golden-ratio constant ...7C15",
    ),
    Mutant(
        "splitmix-multiplier",
        KERNELS,
        "_U(0x94D049BB133111EB)",
        "_U(0x94D049BB133111EF)",
        "splitmix64: second multiplier ...11EF instead of ...11EB",
    ),
    Mutant(
        "one-stream",
        KERNELS,
        "seed_stream(seeds[c], rng)",
        "seed_stream(seeds[0], rng)",
        "every chunk of a kernel call (so every replicate in it) walks the same random stream",
    ),
    Mutant(
        "chunk-seeds-repeat",
        PER_CELL,
        "words = seq.generate_state(n_chunks, dtype=np.uint64)",
        "words = np.repeat(seq.generate_state(1, dtype=np.uint64), n_chunks)",
        "all chunks of a replicate seeded alike: its cells repeat every 65,536",
    ),
    # ---- Monte Carlo: walks and report times ---------------------------------------------------------
    Mutant(
        "mc-entry-report-time",
        KERNELS,
        "while r < n_times and times[r] < t:",
        "while r < n_times and times[r] <= t:",
        "per-cell kernel: a cell not counted at a report time equal to its entry time",
    ),
    Mutant(
        "mc-jump-report-time",
        KERNELS,
        "while r < n_times and times[r] < t_next:",
        "while r < n_times and times[r] <= t_next:",
        "per-cell kernel: a cell counted in its old state at a report time equal to its jump time",
    ),
    Mutant(
        "mc-arrival-report-time",
        KERNELS,
        "                    if times[rr] >= t_next:\n",
        "                    if times[rr] > t_next:\n",
        "per-cell kernel: an arrival at a report time not counted by that time",
    ),
    Mutant(
        "mc-entry-arrival-report-time",
        KERNELS,
        "                    if times[rr] >= t:\n",
        "                    if times[rr] > t:\n",
        "per-cell kernel: a cell placed in the target not counted as arrived at a report time equal to entry",
    ),
    Mutant(
        "mc-entry-arrival-last-time",
        KERNELS,
        "arrived = s == target and t <= t_end",
        "arrived = s == target and t < t_end",
        "per-cell kernel: a cell placed in the target at the last report time not an arrival",
    ),
    Mutant(
        "mc-holding-short",
        KERNELS,
        "t_next = t - math.log(1.0 - uniform(rng)) / rate if rate > 0.0 else math.inf",
        "t_next = t - 0.9 * math.log(1.0 - uniform(rng)) / rate if rate > 0.0 else math.inf",
        "per-cell kernel: holding times 10 % short",
    ),
    Mutant(
        "mc-infusion-bolus",
        KERNELS,
        "t = infusion * uniform(rng) if infusion > 0.0 else 0.0",
        "t = 0.0",
        "per-cell kernel: an infusion's cells all enter at time 0 (a bolus)",
    ),
    Mutant(
        "mc-circulating-untruncated",
        KERNELS,
        "circ += min(t_next, t_end) - t",
        "circ += t_next - t",
        "per-cell kernel: time in blood not cut at the last report time",
    ),
    Mutant(
        "mc-jump-table-transposed",
        TABLES,
        "jumps = generator.T.copy()  # row s: rates out of s",
        "jumps = generator.copy()",
        "jump tables built from the rates into each state instead of out of it",
    ),
    Mutant(
        "mc-classes-unweighted",
        TABLES,
        "classes.append(_cumulative(np.asarray(weights, dtype=float)))",
        "classes.append(_cumulative(np.ones(len(weights))))",
        "per-cell kernel: diameter classes drawn with equal probabilities instead of the node weights",
    ),
    Mutant(
        "twin-entry-report-time",
        TWIN,
        "in_state = (times[None, :] >= t[idx, None]) & (times[None, :] < t_next[:, None])",
        "in_state = (times[None, :] > t[idx, None]) & (times[None, :] < t_next[:, None])",
        "numpy twin: a cell not counted at a report time equal to its entry time",
    ),
    Mutant(
        "agg-infusion-bolus",
        AGG,
        "        if plan.infusion:\n",
        "        if False:\n",
        "aggregated sampler: an infusion's cells all given at time 0 (a bolus)",
    ),
    Mutant(
        "agg-entering-probability",
        AGG,
        "entering.append((b - a) / (infusion - a) if infusion > 0 and b > a else None)",
        "entering.append((b - a) / infusion if infusion > 0 and b > a else None)",
        "aggregated sampler: a pending cell enters in a step with probability Δt/T, not Δt/(T − a)",
    ),
    Mutant(
        "agg-transposed",
        AGG,
        "_stochastic(next(it), 0).T if ok else None",
        "_stochastic(next(it), 0) if ok else None",
        "aggregated sampler: P(Δt) not transposed (rows taken as from-states)",
    ),
    Mutant(
        "agg-entered-seen-at-end-of-infusion",
        AGG,
        "x = solve(chain.generator, np.zeros_like(start), [t1 - a], start / (b - a), b - a)[0][:, 0]",
        "x = solve(chain.generator, np.zeros_like(start), [b - a], start / (b - a), b - a)[0][:, 0]",
        "aggregated sampler: cells entering in a step placed where they are at the infusion's end, not the step's",
    ),
    # ---- release from beds, readouts per assay ---------------------------------------------------------
    Mutant(
        "release-skips-liver",
        CIRC,
        "            moves += [(organ, downstream, rate * caught), (organ, VENOUS, rate * (1.0 - caught))]",
        "            moves += [(organ, VENOUS, rate)]",
        "cells released from gut and spleen return to venous blood without crossing the liver's bed",
    ),
    Mutant(
        "release-to-arterial",
        CIRC,
        "            moves.append((organ, VENOUS, rate))",
        "            moves.append((organ, ARTERIAL, rate))",
        "cells released from a systemic bed go to arterial blood",
    ),
    Mutant(
        "tracer-efflux-from-lung-only",
        TRACERS,
        "moves += [(s, FREE, tracer.efflux_per_h) for s in living]",
        "moves += [(s, FREE, tracer.efflux_per_h) for s in living if s == LUNG]",
        "tracer leaks only from cells in the lung",
    ),
    Mutant(
        "tracer-uptake-not-excreted",
        TRACERS,
        "moves.append((FREE, EXCRETED, k_free * (1.0 - sum(tracer.free_uptake.values()))))",
        "moves.append((FREE, EXCRETED, k_free))",
        "free tracer excreted at the full clearance rate besides the uptake",
    ),
    Mutant(
        "tracer-sinks-decay",
        TRACERS,
        "moves += [(s, DECAYED, k_decay) for s in states if s not in LEFT_BODY]",
        "moves += [(s, DECAYED, k_decay) for s in states if s != DECAYED]",
        "excreted and degraded tracer decays too (it has left the body: excreted activity is lost as decayed)",
    ),
    Mutant(
        "tracer-uptake-row-missing",
        TRACERS,
        "        terms[organ] = [*terms.get(organ, []), taken_up(organ)]",
        "        terms[organ] = terms.get(organ, [])",
        "tracer readout: free tracer taken up by an organ not counted in it",
    ),
    Mutant(
        "dna-death-kept",
        TRACERS,
        "        moves = [(a, DEGRADED if b in dead else b, r) for a, b, r in moves if a not in dead]",
        "        moves = list(moves)",
        "DNA lost at death: dead cells' DNA kept in the debris instead",
    ),
    # ---- equivalent (listed, not scored) ---------------------------------------------------------------
    Mutant(
        "phi1-series-z2",
        LINEAR,
        "out[small] = ss * (1 + zs / 2 + zs * zs / 6)",
        "out[small] = ss * (1 + zs / 2)",
        "φ₁ series without its z²/6 term",
        equivalent=True,
        why="used only for |z| < 1e-5: the term is below z²/6 = 1.7e-11 relative, at round-off of a 1e-14 solver",
    ),
    Mutant(
        "phi2-series-short",
        LINEAR,
        "_PHI2_SERIES = tuple(1.0 / math.factorial(k + 2) for k in range(18))",
        "_PHI2_SERIES = tuple(1.0 / math.factorial(k + 2) for k in range(16))",
        "φ₂ series cut two terms earlier",
        equivalent=True,
        why="used only for |z| < 1: the first dropped term is 1/18! = 1.6e-16, 3e-16 of the leading 1/2",
    ),
    Mutant(
        "infusion-end-in-first-segment",
        LINEAR,
        "    during = t < infusion_h\n",
        "    during = t <= infusion_h\n",
        "a report time at the end of the infusion evaluated on the infusion's segment",
        equivalent=True,
        why="that segment is evaluated at s = T anyway and its end state starts the next one: the same "
        "value, by e^{0} = 1 (differences of a few ulps)",
    ),
    Mutant(
        "search-ties",
        KERNELS,
        "        if u < cum[j]:\n",
        "        if u <= cum[j]:\n",
        "jump draws: a uniform equal to a cumulative probability goes to the lower state",
        equivalent=True,
        why="uniforms are multiples of 2^-53; a tie needs u == cum[j] exactly (probability 2^-53 per draw, "
        "about 1e-9 over a 1e7-cell test run)",
    ),
]


# ---- running --------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def snapshot(source: str, into: Path) -> Path:
    """The files a run needs, from ``HEAD`` (``git archive``) or the working tree, in ``into/base``."""
    base = into / "base"
    base.mkdir()
    if source == "head":
        present = [p for p in COPIED if (ROOT / p).exists()]
        blob = subprocess.run(["git", "archive", "HEAD", *present], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=BytesIO(blob)) as tar:
            tar.extractall(base, filter="data")
    else:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, base / name, ignore=ignore)
            elif src.exists():
                shutil.copy2(src, base / name)
    return base


def problems(base: Path, mutants: list[Mutant]) -> list[str]:
    """Mutants whose snippet does not occur exactly once, or whose mutated file does not compile."""
    out = []
    for m in mutants:
        path = base / m.file
        if not path.exists():
            out.append(f"{m.id}: {m.file} does not exist")
            continue
        text = path.read_text()
        found = text.count(m.find)
        if found != 1:
            out.append(f"{m.id}: the snippet occurs {found} times in {m.file}: {m.find.strip()!r}")
            continue
        try:
            compile(text.replace(m.find, m.replace), str(path), "exec")
        except SyntaxError as exc:
            out.append(f"{m.id}: the mutated {m.file} does not compile: {exc}")
    ids = [m.id for m in mutants]
    out += [f"{i}: id used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return out


def _pytest(scratch: Path, env: dict, args: list[str], timeout: float) -> tuple[int | None, str]:
    """Run pytest in the scratch folder (through :data:`BOOT`); its exit code (``None``: timed out) and output."""
    cmd = [sys.executable, "-c", BOOT, str(scratch), *args]
    proc = subprocess.Popen(
        cmd, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group: pytest and what it started
        return None, proc.communicate()[0]


def _failed(output: str) -> list[str]:
    """Node ids of the failed and erroring tests in pytest's short summary."""
    lines = [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    return list(dict.fromkeys(line.split(" ", 1)[1].split(" - ", 1)[0].strip() for line in lines))


def run_one(
    base: Path, work: Path, mutant: Mutant | None, pinned: bool, timeout: float, logs: Path | None = None
) -> dict:
    """Copy the snapshot, apply the mutant (``None``: the baseline), run the selection; the outcome.

    A failure is confirmed by running the failed tests again alone: a test that then passes failed
    for another reason (a timing-sensitive test on a loaded machine), so it is deselected and the
    selection runs again (at most three times).
    """
    name = "baseline" if mutant is None else mutant.id
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work))
    shutil.copytree(base, scratch, dirs_exist_ok=True)
    if mutant is not None:
        path = scratch / mutant.file
        text = path.read_text()
        assert text.count(mutant.find) == 1, mutant.id
        path.write_text(text.replace(mutant.find, mutant.replace))
    numba_cache = Path(tempfile.mkdtemp(prefix="numba-", dir=work))
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(scratch / "src"), str(scratch)]),
        NUMBA_CACHE_DIR=str(numba_cache),
        PYTHONDONTWRITEBYTECODE="1",
    )
    started = time.perf_counter()
    unconfirmed: list[str] = []
    log = []
    while True:
        deselect = [f"--deselect={d}" for d in unconfirmed]
        code, output = _pytest(scratch, env, ["-m", MARKERS[pinned], *deselect, *SELECTION], timeout)
        log.append(output)
        if code == WRONG_IMPORT:
            raise SystemExit(f"{name}: {output.strip()}")
        failed = _failed(output)
        if code not in KILLED_CODES or not failed or len(unconfirmed) >= 3:
            break
        again, output = _pytest(scratch, env, ["-q", "-p", "no:cacheprovider", *failed], timeout)
        log.append(f"---- again, alone: {' '.join(failed)}\n{output}")
        if again not in (0, 5):  # reproduced (5: nothing collected, e.g. a collection error again)
            break
        unconfirmed += failed
    seconds = time.perf_counter() - started
    if code is None:
        outcome = "timeout"
    elif code == 0:
        outcome = "survived"
    elif code in KILLED_CODES:
        outcome = "killed"
    else:
        outcome = "error"  # usage error or nothing collected: the harness, not the mutant
    if logs is not None:
        (logs / f"{name}.log").write_text("\n".join(log))
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(numba_cache, ignore_errors=True)
    result = {"id": name, "outcome": outcome, "returncode": code, "seconds": round(seconds, 1), "failed": failed[:3]}
    if unconfirmed:
        result["unconfirmed"] = unconfirmed  # failed in the run, passed alone: deselected
    if outcome == "error" or (mutant is None and outcome != "survived"):
        result["output_tail"] = output.splitlines()[-30:]
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--json", type=Path, help="also write the summary here")
    ap.add_argument("--pinned", action="store_true", help="include the pinned tests (-m 'not slow')")
    ap.add_argument("--source", choices=("head", "worktree"), default="head", help="copy HEAD or the working tree")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant (default 600)")
    ap.add_argument("--run-equivalent", action="store_true", help="also run the equivalent mutants (not scored)")
    ap.add_argument("--skip-baseline", action="store_true", help="do not run the unmutated baseline first")
    ap.add_argument("--logs", type=Path, help="write each run's pytest output to LOGS/<id>.log")
    args = ap.parse_args(argv)

    chosen = MUTANTS
    if args.only:
        wanted = args.only.split(",")
        unknown = [i for i in wanted if i not in {m.id for m in MUTANTS}]
        if unknown:
            ap.error(f"unknown mutant ids: {', '.join(unknown)}")
        chosen = [m for m in MUTANTS if m.id in wanted]
    if args.list:
        for m in chosen:
            tag = "[equivalent] " if m.equivalent else ""
            print(f"{m.id:38} {m.file.removeprefix('src/biodist/'):34} {tag}{m.what}")
        bad = problems(ROOT, chosen)  # against the working tree
        if bad:
            say("mutants that cannot be applied to the working tree:\n  " + "\n  ".join(bad))
        return 1 if bad else 0

    started = time.perf_counter()
    selection = f"-m {MARKERS[args.pinned]!r} {' '.join(SELECTION)}"
    with tempfile.TemporaryDirectory(prefix="biodist-mutation-") as tmp:
        work = Path(tmp)
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
        base = snapshot(args.source, work)
        bad = problems(base, chosen)
        if bad:
            say("mutants that cannot be applied:\n  " + "\n  ".join(bad))
            return 2
        if not args.skip_baseline:
            say(f"baseline: pytest {selection}")
            baseline = run_one(base, work, None, args.pinned, args.timeout, args.logs)
            say(f"baseline: {baseline['outcome']} (exit {baseline['returncode']}) in {baseline['seconds']} s")
            if baseline["outcome"] != "survived":
                say("\n".join(baseline.get("output_tail", [])))
                say("the unmutated tests do not pass: no mutation score")
                return 2
        to_run = [m for m in chosen if not m.equivalent or args.run_equivalent]
        results: dict[str, dict] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(run_one, base, work, m, args.pinned, args.timeout, args.logs): m for m in to_run}
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                m = futures[future]
                r = future.result() | {"what": m.what}
                results[m.id] = r
                first = f" ({r['failed'][0]})" if r["failed"] else ""
                say(f"[{done}/{len(to_run)}] {m.id}: {r['outcome']} in {r['seconds']} s{first}")
    scored = [m for m in chosen if not m.equivalent]
    outcome = {i: r["outcome"] for i, r in results.items()}
    killed = sum(outcome[m.id] == "killed" for m in scored)
    summary = {
        "mutants": len(chosen),
        "equivalent": len(chosen) - len(scored),
        "killed": killed,
        "survived": [m.id for m in scored if outcome[m.id] == "survived"],
        "timeouts": [m.id for m in scored if outcome[m.id] == "timeout"],
        "errors": [m.id for m in scored if outcome[m.id] == "error"],
        "unconfirmed": sorted({t for r in results.values() for t in r.get("unconfirmed", [])}),
        "score": round(killed / len(scored), 4) if scored else None,
        "selection": selection,
        "source": args.source,
        "seconds": round(time.perf_counter() - started, 1),
        "results": [results[m.id] for m in chosen if m.id in results],
        "equivalent_mutants": [{"id": m.id, "what": m.what, "why": m.why} for m in chosen if m.equivalent],
    }
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
