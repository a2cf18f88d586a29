"""Vectorized ensemble vs one model at a time, measured side by side in one process.

    python bench/bench_ensemble.py [--repeats 5] [--threads 1] [--device auto] [--pipeline]

(a) 100 MLPs of ~140 parameters, 300 full-batch Adam steps on sin(5πx)/(5πx):
    hwlib.ensemble.train (one batched computation) vs hwlib.train.fit once per model;
(b) 100 exact Hessians (float64) and their eigenvalues, as 1-2c takes them (``Ensemble.hessians``):
    25 runs per call, the full profile's chunk, vs one run per call (the quick profile's);
(d) 1-1a's models: at one depth, every function and seed of a profile (quick: sinc and sign ×
    2 seeds, full: × 3) on its 1,000 points, full-batch Adam, as one ensemble with per-model
    targets (what 1-1a runs) vs hwlib.train.fit once per model (what it ran before); held to ≥ 4×;
(c) with --pipeline: the whole work of notebook 1-2c in its quick profile (train, ‖∇L‖² phase,
    Hessians, eigenvalues) for all runs, vectorized vs one run at a time (once each: minutes).
(a) and (b) alternate the two sides, repeat, and print medians (bench/common.py); each line says
what was timed, both timings, the ratio, its target and the device. (a) is held to ≥ 4×; (b) has
no target (on a CPU each exact Hessian already batches its directions).
"""

from __future__ import annotations

import argparse
import time

import torch
from common import bench_device, report_pair, side_by_side, spread, threads_fixed

from hwlib import curvature as cv
from hwlib import data, ensemble, flat, models, train
from hwlib.device import resolve_device
from hwlib.tasks import t1_1a_simulate_function as t1_1a
from hwlib.tasks import t1_2c_minimal_ratio as t1_2c


def make():
    return models.mlp([10, 10], in_dim=1, out_dim=1)  # 141 parameters


def bench_training(device, k, steps, lr=1e-2):
    ds = data.function_data("sinc", device, n_train=256)
    seeds = list(range(k))

    def vectorized():
        ens = ensemble.build(make, seeds, device)
        ensemble.train(ens, ds, epochs=steps, batch_size=len(ds.x_train), lr=lr, log=False)

    def one_by_one():
        for s in seeds:
            torch.manual_seed(s)
            train.fit(make().to(device), ds, epochs=steps, batch_size=len(ds.x_train), lr=lr, seed=s,
                      eval_every=steps, log=False)

    return vectorized, one_by_one


def bench_1_1a(device, profile: str, depth: int, steps: int):
    """1-1a's ensemble of one depth against its models trained one by one (plateau off: equal work)."""
    from hwlib.params import resolve

    P = resolve(t1_1a.SPEC, {"profile": profile, "device": str(device)}, t1_1a.checks)
    sets, pairs, both = t1_1a.stacked_functions(P)
    make = lambda: models.mlp_for_budget(P.budget, depth, activation=P.activation)

    def vectorized():
        ens = ensemble.build(make, [s for _, s in pairs], device, distinct=False)
        ensemble.train(ens, both, epochs=steps, batch_size=P.batch_size, lr=P.lr, optimizer=P.optimizer,
                       per_model_y=True, log=False)

    def one_by_one():
        for fn, s in pairs:
            torch.manual_seed(s)
            train.fit(make().to(device), sets[fn], epochs=steps, batch_size=P.batch_size, lr=P.lr,
                      optimizer=P.optimizer, seed=s, eval_every=steps, log=False)

    return vectorized, one_by_one, P, len(pairs)


def bench_hessians(device, k):
    chunk = t1_2c.SPEC["hessian_chunk"].full  # the full profile's (GPU) chunk, against one run per call
    ds = data.function_data("sinc", device, n_train=256)
    ens = ensemble.build(make, list(range(k)), device, dtype=torch.float64)
    x, y = ds.x_train.double(), ds.y_train.double()

    def vectorized():
        cv.hessian_eigenvalues(ens.hessians(x, y, ds.kind, ens.theta, chunk))

    def one_by_one():
        cv.hessian_eigenvalues(ens.hessians(x, y, ds.kind, ens.theta, 1))

    return vectorized, one_by_one


def compare(what: str, pair, device, repeats: int, target: float | None) -> None:
    """Vectorized against one by one, alternating, medians; one line in the suite's format."""
    vectorized, one_by_one = pair
    measured = side_by_side(vectorized, one_by_one, device, repeats=repeats)
    report_pair(what, measured, device, "vectorized", "one by one", target)
    print(f"    vectorized {spread(measured.a)}; one by one {spread(measured.b)}", flush=True)


def pipeline(device):
    """Notebook 1-2c's quick-profile work, both ways, with the same settings."""
    from hwlib.params import resolve

    P = resolve(t1_2c.SPEC, {"profile": "quick", "device": str(device)}, t1_2c.checks)
    ds = data.function_data(P.function, device, n_train=P.n_train)

    def run_k(seeds):
        ens = ensemble.build(t1_2c.make_model(P), seeds, device)
        ensemble.train(ens, ds, epochs=P.epochs, batch_size=P.n_train, lr=P.lr, log=False)
        loss = ens.loss_of_theta(ds.x_train, ds.y_train, ds.kind)
        out = cv.grad_norm_phase(loss, ens.theta, threshold=P.grad_threshold, max_steps=P.phase_steps, lr=P.phase_lr,
                                 batched_loss=ens.losses_of_theta(ds.x_train, ds.y_train, ds.kind),
                                 batched_step=ens.grad_norm_step(ds.x_train, ds.y_train, ds.kind))
        eig = cv.hessian_eigenvalues(ens.hessians(ds.x_train.double(), ds.y_train.double(), ds.kind,
                                                  out["theta"].double(), P.hessian_chunk))
        return out["loss"], eig

    seeds = list(range(P.runs))
    t = time.perf_counter()
    loss_v, eig_v = run_k(seeds)
    tv = time.perf_counter() - t
    t = time.perf_counter()
    # one model at a time: training with hwlib.train.fit, then the same phase and Hessian code with K = 1
    loss_s, eig_s = [], []
    for s in seeds:
        torch.manual_seed(s)
        model = t1_2c.make_model(P)().to(device)
        train.fit(model, ds, epochs=P.epochs, batch_size=P.n_train, lr=P.lr, seed=s, eval_every=P.epochs, log=False)
        ens = ensemble.Ensemble(model, flat.flatten(model)[None], [s])
        loss = ens.loss_of_theta(ds.x_train, ds.y_train, ds.kind)
        out = cv.grad_norm_phase(loss, ens.theta, threshold=P.grad_threshold, max_steps=P.phase_steps, lr=P.phase_lr)
        loss64 = ens.loss_of_theta(ds.x_train.double(), ds.y_train.double(), ds.kind)
        eig_s.append(cv.hessian_eigenvalues(cv.exact_hessian(loss64, out["theta"][0].double())))
        loss_s.append(out["loss"][0])
    ts = time.perf_counter() - t
    ratio_v = [cv.minimal_ratio(e, P.tol) for e in eig_v]
    ratio_s = [cv.minimal_ratio(e, P.tol) for e in eig_s]
    agree = sum(abs(a - b) < 1e-9 for a, b in zip(ratio_v, ratio_s))
    print(f"1-2c quick pipeline ({P.runs} runs: {P.epochs} epochs, ‖∇L‖² phase, Hessians): vectorized {tv:.1f} s, "
          f"one by one {ts:.1f} s, ratio {ts / tv:.1f}x (device {device}, {torch.get_num_threads()} thread(s)); "
          f"median loss {torch.stack(list(loss_v)).median():.4g} vs {torch.stack(loss_s).median():.4g}, "
          f"minimal ratio identical in {agree}/{P.runs} runs", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads on the CPU, both sides (default: BENCH_THREADS, else 1)")
    ap.add_argument("--device", default=None, help="default: HWLIB_DEVICE, else CUDA if present")
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--pipeline", action="store_true", help="also time notebook 1-2c's whole quick workload")
    args = ap.parse_args()
    device = resolve_device(args.device) if args.device else bench_device()
    if args.threads is not None or not threads_fixed():
        # one thread by default: these models are a few hundred tiny kernels per step, as in 1-2c
        torch.set_num_threads(args.threads or 1)
    compare(f"{args.models} MLPs × 141 params, {args.steps} full-batch Adam steps",
            bench_training(device, args.models, args.steps), device, args.repeats, target=4.0)
    compare(f"{args.models} exact 141×141 Hessians + eigvalsh (float64), {t1_2c.SPEC['hessian_chunk'].full} runs per call "
            f"(full profile) vs 1 (quick)", bench_hessians(device, args.models), device, args.repeats,
            target=None)
    for profile in ("quick", "full"):
        for depth in t1_1a.SPEC["depths"].default(profile):  # every depth 1-1a trains
            vec, seq, P, k = bench_1_1a(device, profile, depth, args.steps)
            compare(f"1-1a {profile}: {k} MLPs ({', '.join(P.functions)} × {P.seeds} seeds) × {P.budget} params, "
                    f"depth {depth}, {P.n_train} points, {args.steps} full-batch {P.optimizer} steps", (vec, seq), device,
                    args.repeats, target=4.0)
    if args.pipeline:
        pipeline(device)


if __name__ == "__main__":
    main()
