"""Generate the synthetic per-question eval dump shipped in ``sample_data/``.

Run from the repository root::

    python sample_data/generate.py              # writes sample_data/eval_dump.csv and models.csv
    python sample_data/generate.py --check      # also re-reads the files and prints the verification
    python sample_data/generate.py --out-dir DIR

Everything is drawn from ``numpy.random.default_rng`` streams derived from the fixed seed
:data:`SEED`, so two runs write byte-identical files.

The data are SYNTHETIC. No real model was evaluated; the model names are invented.

Generative model, in plain words
--------------------------------
There are 40 invented models from 7 families, with training compute ``6 * params * tokens``
between 1e19 and 1e24 FLOPs, and 2,000 four-choice questions. Write ``x = log10(FLOPs)``.
Each model gets a hidden "effective scale": ``x`` plus a small shift shared by its family
(some recipes are better than others) plus a smaller shift of its own.

Each question gets a hidden hardness ``h`` drawn uniformly from [0, 1] (0 = easiest). From it
follow the logits of the four answer choices:

* the correct choice's logit is a small head start, plus a cue that small models pick up
  between 1e19 and 3e20 FLOPs (strong on easy questions, absent on the hardest), plus a slow
  steady gain with scale, plus a large "mastery" step that arrives late: around 6e22 FLOPs
  for the easiest questions and far beyond 1e24 for the hardest ones;
* one distractor is a *trap*: its logit is a broad bump in ``x``, so models of a certain size
  are drawn to it. On hard questions the trap is strongest for the smallest models (peak near
  3e19 FLOPs) and fades as they grow; on easy questions it only opens once models know enough
  to be fooled, growing through 1e21..1e22 FLOPs until mastery overtakes it. This is the
  inverse scaling;
* the two other distractors have logit 0;
* every (question, choice) has a fixed offset shared by all models (questions have quirks
  every model sees), and every (model, question, choice) gets independent Gaussian noise.

Each model's logits are scaled by its own confidence factor (some models are sharper than
others), then a softmax over the four choices gives the probabilities. ``p_correct`` is the
probability of the correct choice and ``correct`` is 1 when that choice has the highest
probability.

What this produces, once questions are sorted by their mean score over the models below
3e22 FLOPs (the fitting set) and split into three equal groups: the easy group's mean
Target-Conditioned Brier score rises (the cue), falls (its trap) and rises again (mastery);
the hard group falls while its early trap is strong and rises as the trap fades (then with
mastery), a U. The
two cancel at first, so accuracy stays flat near chance, and accuracy jumps once the easy
group turns from falling to rising. ``--check`` measures all of this from the written files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: The one seed behind every random draw. Changing it changes every number in the README.
SEED = 20250124

N_QUESTIONS = 2000
N_CHOICES = 4
TASK = "synthetic_mc"
#: Models below this compute form the fitting set of the verification (and of the paper's backtest).
FIT_CUTOFF_FLOPS = 3e22
#: Rounding of p_correct: six decimals keeps the CSV small and its text deterministic.
P_DECIMALS = 6

# (model id, parameters, training tokens). Invented families with several sizes each, as in
# real model zoos; FLOPs = 6 * params * tokens spans 1e19 .. 1e24 roughly log-uniformly.
MODELS: tuple[tuple[str, int, int], ...] = (
    ("toyco/toy-70m", 70_000_000, 24_000_000_000),
    ("toyco/toy-160m", 160_000_000, 24_000_000_000),
    ("toyco/toy-410m", 410_000_000, 24_000_000_000),
    ("toyco/toy-1b", 1_000_000_000, 24_000_000_000),
    ("toyco/toy-1.4b", 1_400_000_000, 24_000_000_000),
    ("toyco/toy-2.8b", 2_800_000_000, 24_000_000_000),
    ("toyco/toy-6.9b", 6_900_000_000, 24_000_000_000),
    ("nimbus/nimbus-50m", 50_000_000, 60_000_000_000),
    ("nimbus/nimbus-100m", 100_000_000, 60_000_000_000),
    ("nimbus/nimbus-300m", 300_000_000, 60_000_000_000),
    ("nimbus/nimbus-600m", 600_000_000, 60_000_000_000),
    ("nimbus/nimbus-1.2b", 1_200_000_000, 60_000_000_000),
    ("nimbus/nimbus-2.4b", 2_400_000_000, 60_000_000_000),
    ("acme-lm/acme-125m", 125_000_000, 100_000_000_000),
    ("acme-lm/acme-350m", 350_000_000, 100_000_000_000),
    ("acme-lm/acme-1.3b", 1_300_000_000, 100_000_000_000),
    ("acme-lm/acme-2.7b", 2_700_000_000, 100_000_000_000),
    ("acme-lm/acme-6.7b", 6_700_000_000, 100_000_000_000),
    ("acme-lm/acme-13b", 13_000_000_000, 100_000_000_000),
    ("acme-lm/acme-30b", 30_000_000_000, 100_000_000_000),
    ("fjord/fjord-1b", 1_000_000_000, 300_000_000_000),
    ("fjord/fjord-3b", 3_000_000_000, 300_000_000_000),
    ("fjord/fjord-7b", 7_000_000_000, 300_000_000_000),
    ("fjord/fjord-15b", 15_000_000_000, 300_000_000_000),
    ("fjord/fjord-40b", 40_000_000_000, 300_000_000_000),
    ("quokka/quokka-1b", 1_000_000_000, 500_000_000_000),
    ("quokka/quokka-3b", 3_000_000_000, 1_000_000_000_000),
    ("quokka/quokka-7b", 7_000_000_000, 2_000_000_000_000),
    ("quokka/quokka-13b", 13_000_000_000, 2_000_000_000_000),
    ("quokka/quokka-34b", 34_000_000_000, 2_000_000_000_000),
    ("quokka/quokka-70b", 70_000_000_000, 2_000_000_000_000),
    ("orbital/orb-0.5b", 500_000_000, 1_000_000_000_000),
    ("orbital/orb-2b", 2_000_000_000, 1_000_000_000_000),
    ("orbital/orb-8b", 8_000_000_000, 1_000_000_000_000),
    ("orbital/orb-24b", 24_000_000_000, 1_000_000_000_000),
    ("lumen/lumen-8b", 8_000_000_000, 1_400_000_000_000),
    ("lumen/lumen-20b", 20_000_000_000, 1_400_000_000_000),
    ("lumen/lumen-40b", 40_000_000_000, 1_400_000_000_000),
    ("lumen/lumen-65b", 65_000_000_000, 1_400_000_000_000),
    ("lumen/lumen-120b", 120_000_000_000, 1_400_000_000_000),
)

# --- Generative-model constants (x is log10 FLOPs; "per decade" means per unit of x). ---------
X_START = 19.0  # smallest compute in the zoo; the slow steady gain is measured from here
FAMILY_SHIFT_SD = 0.08  # family recipe quality, in decades of effective compute
MODEL_SHIFT_SD = 0.05  # one model's own luck
CONFIDENCE_LOG_SD = 0.08  # per-model logit scale: log-normal around 1

HEAD_START_EASY, HEAD_START_HARD, HEAD_START_SD = 0.3, 0.1, 0.3  # correct-logit offset at h=0 / h=1
CUE_GAIN = 1.3  # correct-logit gain from the small-model cue, times (1 - h)
CUE_X0, CUE_X1 = 19.0, 20.5  # the cue is picked up linearly between these scales
STEADY_SLOPE_EASY, STEADY_SLOPE_HARD = 0.11, 0.03  # correct-logit gain per decade at h=0 / h=1
TRAP_STRENGTH, TRAP_STRENGTH_SD = 2.6, 0.4  # peak logit of the trap distractor
TRAP_X_EASY, TRAP_X_HARD, TRAP_X_SD = 22.9, 19.5, 0.2  # where the trap peaks, at h=0 / h=1
TRAP_WIDTH = 1.0  # decades (Gaussian sd of the bump)
MASTERY_GAIN = 2.7  # correct-logit step once a question is mastered
MASTERY_X_EASY, MASTERY_X_HARD, MASTERY_X_SD = 22.8, 25.6, 0.3  # where mastery is half-way
MASTERY_WIDTH = 0.18  # decades (logistic scale of the step)
QUESTION_CHOICE_SD = 0.4  # fixed per (question, choice) quirk shared by all models
NOISE_SD = 0.7  # independent per (model, question, choice) noise


def model_table() -> pd.DataFrame:
    """The model zoo as a DataFrame ``model, params, tokens`` plus ``flops`` and ``x = log10(flops)``."""
    table = pd.DataFrame(MODELS, columns=["model", "params", "tokens"])
    table["flops"] = 6.0 * table["params"].astype(float) * table["tokens"].astype(float)
    table["x"] = np.log10(table["flops"])
    return table


def simulate_choice_probs(x: np.ndarray, family_codes: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Probabilities over the choices, shape ``(n_models, N_QUESTIONS, N_CHOICES)``.

    Choice 0 is the correct one and choice 1 the trap; the dump only ever reports the correct
    choice, so the position of the right answer never needs shuffling.
    """
    # Independent streams per ingredient, so retuning one ingredient leaves the others' draws intact.
    rng_models, rng_questions, rng_quirks, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    n_models = len(x)

    family_shift = rng_models.normal(0.0, FAMILY_SHIFT_SD, family_codes.max() + 1)[family_codes]
    effective_x = (x + family_shift + rng_models.normal(0.0, MODEL_SHIFT_SD, n_models))[:, None]
    confidence = np.exp(rng_models.normal(0.0, CONFIDENCE_LOG_SD, n_models))[:, None, None]

    hardness = rng_questions.uniform(0.0, 1.0, N_QUESTIONS)
    ease = 1.0 - hardness
    head_start = (
        HEAD_START_HARD + (HEAD_START_EASY - HEAD_START_HARD) * ease
        + rng_questions.normal(0.0, HEAD_START_SD, N_QUESTIONS)
    )
    steady_slope = STEADY_SLOPE_HARD + (STEADY_SLOPE_EASY - STEADY_SLOPE_HARD) * ease
    trap_strength = TRAP_STRENGTH + rng_questions.normal(0.0, TRAP_STRENGTH_SD, N_QUESTIONS)
    trap_x = TRAP_X_HARD + (TRAP_X_EASY - TRAP_X_HARD) * ease + rng_questions.normal(0.0, TRAP_X_SD, N_QUESTIONS)
    mastery_x = (
        MASTERY_X_EASY + (MASTERY_X_HARD - MASTERY_X_EASY) * hardness
        + rng_questions.normal(0.0, MASTERY_X_SD, N_QUESTIONS)
    )

    cue = CUE_GAIN * ease * np.clip((effective_x - CUE_X0) / (CUE_X1 - CUE_X0), 0.0, 1.0)
    mastery = MASTERY_GAIN / (1.0 + np.exp(-(effective_x - mastery_x) / MASTERY_WIDTH))
    correct_logit = head_start + cue + steady_slope * (effective_x - X_START) + mastery
    trap_logit = trap_strength * np.exp(-0.5 * ((effective_x - trap_x) / TRAP_WIDTH) ** 2)

    logits = np.zeros((n_models, N_QUESTIONS, N_CHOICES))
    logits[:, :, 0] = correct_logit
    logits[:, :, 1] = trap_logit
    logits += rng_quirks.normal(0.0, QUESTION_CHOICE_SD, (N_QUESTIONS, N_CHOICES))
    logits += rng_noise.normal(0.0, NOISE_SD, logits.shape)
    logits *= confidence

    logits -= logits.max(axis=-1, keepdims=True)  # stable softmax
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def build_dump(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(eval_dump, models)`` exactly as they are written to CSV."""
    table = model_table()
    family_codes = pd.factorize(table["model"].str.split("/").str[0])[0]
    probs = simulate_choice_probs(table["x"].to_numpy(), family_codes, seed)

    # `correct` comes from the unrounded probabilities: rounding to 6 decimals could create ties.
    is_correct = (probs.argmax(axis=-1) == 0).astype(np.int8)
    p_correct = np.round(probs[:, :, 0], P_DECIMALS)

    by_name = np.argsort(table["model"].to_numpy(), kind="stable")  # rows sorted by model, then question
    question_ids = np.array([f"q{i:04d}" for i in range(1, N_QUESTIONS + 1)])
    dump = pd.DataFrame(
        {
            "model": np.repeat(table["model"].to_numpy()[by_name], N_QUESTIONS),
            "question": np.tile(question_ids, len(table)),
            "task": TASK,
            "correct": is_correct[by_name].ravel(),
            "p_correct": p_correct[by_name].ravel(),
        }
    )
    models = table[["model", "params", "tokens"]].sort_values("model", kind="stable").reset_index(drop=True)
    return dump, models


def write_files(out_dir: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``eval_dump.csv`` and ``models.csv`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dump, models = build_dump(seed)
    dump_path, models_path = out_dir / "eval_dump.csv", out_dir / "models.csv"
    # lineterminator fixed so the bytes do not depend on the platform.
    dump.to_csv(dump_path, index=False, lineterminator="\n")
    models.to_csv(models_path, index=False, lineterminator="\n")
    return dump_path, models_path


# --- Verification -------------------------------------------------------------------------------


def _group_means(scores: np.ndarray, order: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``scores`` (models x questions) over each difficulty group; questions in ``order``."""
    bounds = np.floor(np.linspace(0, scores.shape[1], n_groups + 1)).astype(int)
    return np.stack([scores[:, order[a:b]].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)


def _critical_points(coefs: np.ndarray, lo: float, hi: float) -> list[tuple[float, str]]:
    """Real local extrema of a polynomial (numpy.polyfit order) inside [lo, hi], as (x, 'min'|'max')."""
    roots = np.roots(np.polyder(coefs))
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    curvature = np.polyder(coefs, 2)
    return [(float(r), "min" if np.polyval(curvature, r) > 0 else "max") for r in real if lo <= r <= hi]


def _near(x: np.ndarray, values: np.ndarray, center: float, half_width: float = 0.3) -> float:
    """Mean of ``values`` over models whose x lies within ``half_width`` decades of ``center``."""
    return float(values[np.abs(x - center) <= half_width].mean())


def check(out_dir: Path) -> bool:
    """Re-read the written files, print the verification summary, return True when every check passes."""
    dump = pd.read_csv(out_dir / "eval_dump.csv")
    models = pd.read_csv(out_dir / "models.csv")
    ok = True

    def report(name: str, passed: bool, detail: str) -> None:
        nonlocal ok
        ok &= bool(passed)
        print(f"[{'PASS' if passed else 'FAIL'}] {name}: {detail}")

    columns = list(dump.columns)
    report("columns", columns == ["model", "question", "task", "correct", "p_correct"], str(columns))
    report("rows", len(dump) == len(models) * N_QUESTIONS,
           f"{len(dump)} = {len(models)} models x {N_QUESTIONS} questions")
    is_sorted = dump.equals(dump.sort_values(["model", "question"]).reset_index(drop=True))
    report("sorted", is_sorted, "by model, then question")
    # With four choices, p_correct > 1/2 forces the argmax; p_correct < 1/4 forbids it.
    sure_right = (dump.p_correct > 0.5) & (dump.correct == 0)
    sure_wrong = (dump.p_correct < 0.25) & (dump.correct == 1)
    consistent = not sure_right.any() and not sure_wrong.any()
    report("correct vs p_correct", consistent, "no p>0.5 marked wrong, no p<0.25 marked right")

    models["x"] = np.log10(6.0 * models["params"].astype(float) * models["tokens"].astype(float))
    models = models.sort_values("x", kind="stable").reset_index(drop=True)
    wide_tc = dump.assign(tc=-((1.0 - dump.p_correct) ** 2)).pivot(index="model", columns="question", values="tc")
    tc = wide_tc.loc[models["model"]].to_numpy()
    acc = dump.groupby("model")["correct"].mean().loc[models["model"]].to_numpy()
    x = models["x"].to_numpy()
    fit = x < np.log10(FIT_CUTOFF_FLOPS)

    # Difficulty = mean TC Brier over the fitting models; easiest first; stable sort breaks ties by id.
    order = np.argsort(-tc[fit].mean(axis=0), kind="stable")
    g3 = _group_means(tc, order, 3)
    g10 = _group_means(tc, order, 10)
    overall = tc.mean(axis=1)

    print(f"\n{len(models)} models, {int(fit.sum())} below {FIT_CUTOFF_FLOPS:.0e} FLOPs (fitting set)")
    print(f"{'model':20s} {'log10F':>6s} {'acc':>5s} {'tc':>6s} | {'easy':>6s} {'mid':>6s} {'hard':>6s} "
          "| 10 groups, easiest first")
    for i, name in enumerate(models["model"]):
        tens = " ".join(f"{v:+.2f}" for v in g10[i])
        mark = " " if fit[i] else "*"
        three = f"{g3[i, 0]:+.3f} {g3[i, 1]:+.3f} {g3[i, 2]:+.3f}"
        print(f"{name:20s} {x[i]:6.2f}{mark}{acc[i]:5.3f} {overall[i]:+.3f} | {three} | {tens}")
    print("(* = not in the fitting set)\n")

    # Easy group: degree-5 polynomial on the fitting set, as in the paper; its last local minimum
    # is the emergence threshold and must come after a local maximum (rise, fall, rise).
    easy_fit = np.polyfit(x[fit], g3[fit, 0], 5)
    easy_crit = _critical_points(easy_fit, x[fit].min(), x[fit].max())
    minima = [c for c, kind in easy_crit if kind == "min"]
    maxima = [c for c, kind in easy_crit if kind == "max"]
    threshold = minima[-1] if minima else float("nan")
    peak = max([m for m in maxima if m < threshold], default=float("nan"))
    report(
        "easy deg-5 fit",
        bool(minima) and 21.0 <= threshold <= 23.0 and np.isfinite(peak),
        f"critical points {[(round(c, 2), k) for c, k in easy_crit]}; "
        f"last local min at 10^{threshold:.2f} = {10 ** threshold:.2e} FLOPs",
    )
    # The same shape in the raw group means, not only in the polynomial.
    e_start, e_peak = _near(x, g3[:, 0], x.min()), _near(x, g3[:, 0], peak)
    e_trough, e_end = _near(x, g3[:, 0], threshold), _near(x, g3[:, 0], x.max())
    report(
        "easy raw shape",
        e_start < e_peak > e_trough < e_end,
        f"mean TC near 10^{x.min():.1f}: {e_start:+.3f}, near the peak 10^{peak:.2f}: {e_peak:+.3f}, "
        f"near the trough 10^{threshold:.2f}: {e_trough:+.3f}, near 10^{x.max():.1f}: {e_end:+.3f}",
    )
    hard_fit = np.polyfit(x[fit], g3[fit, 2], 2)
    vertex = -hard_fit[1] / (2 * hard_fit[0])
    lowest = int(np.argmin(np.where(fit, g3[:, 2], np.inf)))
    report(
        "hard U shape",
        hard_fit[0] > 0 and x.min() < vertex < x[fit].max() and g3[0, 2] > g3[lowest, 2] < g3[-1, 2],
        f"deg-2 fit on the fitting set opens upward, vertex at 10^{vertex:.2f}; raw mean TC {g3[0, 2]:+.3f} "
        f"(smallest model) -> {g3[lowest, 2]:+.3f} (lowest, 10^{x[lowest]:.2f}) -> {g3[-1, 2]:+.3f} (largest)",
    )

    # Accuracy: flat near chance for the smaller two thirds of the zoo, then a jump.
    small = np.arange(len(x)) < round(len(x) * 2 / 3)
    report(
        "accuracy flat then jumps",
        acc[small].min() >= 0.22 and acc[small].max() <= 0.38 and 0.6 <= acc[-1] <= 0.85,
        f"smaller 2/3 (up to 10^{x[small].max():.2f}): {acc[small].min():.3f}..{acc[small].max():.3f}; "
        f"largest model: {acc[-1]:.3f}",
    )
    for lo, hi in [(19, 20), (20, 21), (21, 22), (22, 22.5), (22.5, 23), (23, 23.5), (23.5, 24.01)]:
        sel = (x >= lo) & (x < hi)
        span = f"10^{lo:g}..10^{min(hi, 24):g}"
        print(f"    accuracy {span} FLOPs: mean {acc[sel].mean():.3f} over {int(sel.sum())} models")

    # The paper's backtest (Slice-and-Sandwich): easy deg 5 + hard deg 2 on the fitting set,
    # averaged; accuracy from a linear accuracy->TC fit on the fitting set, re-centred on it.
    tc_forecast = (np.polyval(easy_fit, x) + np.polyval(hard_fit, x)) / 2
    slope, intercept = np.polyfit(acc[fit], overall[fit], 1)
    acc_forecast = (tc_forecast - intercept) / slope
    acc_forecast += acc[fit].mean() - acc_forecast[fit].mean()
    test = ~fit
    near_term = test & (x < np.log10(10 * FIT_CUTOFF_FLOPS))
    error = np.abs(acc_forecast - acc)
    print(
        f"\nSlice-and-Sandwich backtest (no clipping): mean |error| {error[near_term].mean():.3f} over the "
        f"{int(near_term.sum())} held-out models below {10 * FIT_CUTOFF_FLOPS:.0e} FLOPs, "
        f"{error[test].mean():.3f} over all {int(test.sum())} held-out models"
    )
    for i in np.flatnonzero(test):
        print(f"    10^{x[i]:.2f}: actual {acc[i]:.3f}, forecast {acc_forecast[i]:.3f}")
    size_mb = (out_dir / "eval_dump.csv").stat().st_size / 1e6
    report("file size", size_mb < 4.0, f"eval_dump.csv is {size_mb:.2f} MB")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent,
                        help="directory for eval_dump.csv and models.csv (default: next to this script)")
    parser.add_argument("--check", action="store_true", help="re-read the files and print the verification summary")
    args = parser.parse_args(argv)
    dump_path, models_path = write_files(args.out_dir)
    print(f"wrote {dump_path} and {models_path}")
    if args.check:
        return 0 if check(args.out_dir) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
