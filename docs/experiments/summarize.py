#!/usr/bin/python3
"""Tables of docs/RESULTS.md from the run folders docs/experiments/run.sh
writes: for each setting, the mean and sample standard deviation over seeds
of the validation accuracy, mean class accuracy, KL to the votes or to the
true distributions, the KL between the amended label distributions and the
true ones (synthetic), the AUROC of alpha (with noise) and the wall time.
A second table looks inside the SCE-ALD runs with label noise, from their
samples.csv: for the flipped samples, how often the argmax of S^s, S^t and
the amended label distribution is the original (true) label; the mean
largest entry of the label distributions (7 classes: 1/7 is flat); and the
mean alpha of clean and of flipped samples.

    python3 docs/experiments/summarize.py [runs/experiments]
"""
import json
import math
import os
import re
import sys
from collections import defaultdict


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    m = sum(values) / len(values)
    if len(values) == 1:
        return f"{m:.4f}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return f"{m:.4f} ± {sd:.4f}"


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../runs/experiments")
    groups = defaultdict(list)  # setting -> [(seed, dir)]
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        m = re.fullmatch(r"(.+)-seed(\d+)", name)
        if not m or not os.path.isfile(os.path.join(d, "wall_seconds")):  # finished runs only
            continue
        groups[m.group(1)].append((int(m.group(2)), d))

    keys = [("accuracy", "acc"), ("mean_class_accuracy", "mean class acc"), ("kl_votes", "KL(votes‖p)"),
            ("kl_true", "KL(true‖p)"), ("kl_true_label_distribution", "KL(true‖LD) train"),
            ("auroc_alpha", "AUROC α")]
    print(f"| setting | model | seeds | {' | '.join(k[1] for k in keys)} | wall s (run) |")
    print("|---|---|---|" + "---|" * len(keys) + "---|")
    for setting, runs in groups.items():
        rows = [("SCE-ALD", "metrics.json")]
        if all(os.path.isfile(os.path.join(d, "baseline", "metrics.json")) for _, d in runs):
            rows.insert(0, ("baseline", os.path.join("baseline", "metrics.json")))
        wall = [float(open(os.path.join(d, "wall_seconds")).read()) for _, d in runs
                if os.path.isfile(os.path.join(d, "wall_seconds"))]
        for label, file in rows:
            metrics = [load(os.path.join(d, file)) for _, d in runs]
            if label == "SCE-ALD":
                cfg = load(os.path.join(runs[0][1], "config.json"))
                label = f"SCE-ALD β={cfg.get('beta')} {cfg.get('confidence_distance')}"
            cells = [mean_sd([m.get(k) for m in metrics]) for k, _ in keys]
            w = mean_sd(wall) if label != "baseline" else ""
            print(f"| {setting} | {label} | {','.join(str(s) for s, _ in sorted(runs))} | {' | '.join(cells)} | {w} |")
    inside_table(groups)
    table3(groups)


def inside(run_dir):
    import csv
    with open(os.path.join(run_dir, "samples.csv")) as f:
        rows = list(csv.reader(f))[1:]
    argmax = lambda r, at: max(range(7), key=lambda k: float(r[at + k]))
    flipped = [r for r in rows if r[2] != "" and r[1] != r[2]]
    clean = [r for r in rows if not (r[2] != "" and r[1] != r[2])]
    if not flipped:
        return None
    frac = lambda at: sum(argmax(r, at) == int(r[2]) for r in flipped) / len(flipped)
    return {"ss": frac(4), "st": frac(11), "ld": frac(18),
            "ld_max": sum(max(float(x) for x in r[18:25]) for r in rows) / len(rows),
            "alpha_clean": sum(float(r[3]) for r in clean) / len(clean),
            "alpha_flipped": sum(float(r[3]) for r in flipped) / len(flipped)}


def inside_table(groups):
    print()
    print("| setting (SCE-ALD, flipped samples) | argmax S^s = true | argmax S^t = true | argmax LD = true "
          "| mean max LD | α clean | α flipped |")
    print("|---|---|---|---|---|---|---|")
    for setting, runs in groups.items():
        stats = [inside(d) for _, d in runs]
        stats = [x for x in stats if x]
        if not stats:
            continue
        cell = lambda k: mean_sd([x[k] for x in stats])
        print(f"| {setting} | {cell('ss')} | {cell('st')} | {cell('ld')} | {cell('ld_max')} | "
              f"{cell('alpha_clean')} | {cell('alpha_flipped')} |")


def table3(groups):
    """The paper's Table III on the synthetic set: mean validation accuracy over
    seeds for each (noise, beta) among the runs with the sorted distance; beta 1
    is the baseline of the main runs."""
    cells = defaultdict(list)  # (noise, beta) -> accuracies
    for setting, runs in groups.items():
        if not setting.startswith("synthetic"):
            continue
        for _, d in runs:
            cfg = load(os.path.join(d, "config.json"))
            if cfg.get("confidence_distance") != "sorted":
                continue
            noise = float(cfg.get("noise", 0))
            cells[(noise, float(cfg["beta"]))].append(load(os.path.join(d, "metrics.json"))["accuracy"])
            baseline = os.path.join(d, "baseline", "metrics.json")
            if os.path.isfile(baseline):
                cells[(noise, 1.0)].append(load(baseline)["accuracy"])
    betas = sorted({b for _, b in cells})
    noises = sorted({n for n, _ in cells})
    if len(betas) < 2:
        return
    print()
    print("Table III (synthetic): validation accuracy, mean over seeds (n)")
    print("| noise | " + " | ".join(f"β={b:g}" for b in betas) + " |")
    print("|---|" + "---|" * len(betas))
    for n in noises:
        row = []
        for b in betas:
            acc = cells.get((n, b))
            row.append(f"{sum(acc) / len(acc):.4f} ({len(acc)})" if acc else "-")
        print(f"| {n:g} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
