"""The training loop: hwlib's device-resident loop against the canonical PyTorch loop, and whether
torch.compile would pay for a bare loop of the same model (bench_loops.py holds hwlib's loops
against bare loops, task by task).

    python bench/bench_train.py                          # or: make bench
    HWLIB_DEVICE=cpu BENCH_THREADS=1 python bench/bench_train.py

Both loops get the same model (one initialization, deep-copied for every run), the same data,
optimizer (Adam), learning rate, batch size and number of epochs, and both record the training
loss and accuracy of every epoch. Neither evaluates a test set during training: ``eval_every``
is beyond the last epoch and the test set has 16 samples, so the one test evaluation
``hwlib.train.fit`` always makes at the end costs nothing worth counting. ``fit`` also
evaluates the whole training set once at the end (its eval-mode final metrics); that stays in
its time: hwlib pays for it, the canonical loop does not.
"""

from __future__ import annotations

import copy

import torch
from common import bench_device, report_pair, side_by_side, spread, threads_fixed
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from hwlib import models
from hwlib.data import Dataset, function_data
from hwlib.train import fit, loss_function

REPEATS = 5  # timed runs per side; the medians are compared


def canonical_fit(model: nn.Module, data: Dataset, *, epochs: int, batch_size: int, lr: float,
                  seed: int = 0) -> tuple[int, float]:
    """The loop of the PyTorch tutorials: a shuffled DataLoader over a TensorDataset held on the host,
    each batch moved to the model's device, running loss and accuracy read with ``.item()``.
    Returns (optimizer steps, training loss of the last epoch)."""
    device = next(model.parameters()).device
    torch.manual_seed(seed)  # the DataLoader's shuffle draws from the global generator
    loader = DataLoader(TensorDataset(data.x_train.cpu(), data.y_train.cpu()), batch_size=batch_size,
                        shuffle=True, pin_memory=device.type == "cuda")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_function(data.kind)
    classify = data.kind == "classification"
    model.train()
    steps, epoch_loss = 0, float("nan")
    for _ in range(epochs):
        running_loss, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            running_loss += loss.item() * len(xb)
            if classify:
                correct += (out.argmax(1) == yb).sum().item()
            seen += len(xb)
        epoch_loss = running_loss / seen
    return steps, epoch_loss


def hwlib_fit(model: nn.Module, data: Dataset, *, epochs: int, batch_size: int, lr: float,
              seed: int = 0) -> tuple[int, float]:
    hist = fit(model, data, epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", seed=seed,
               eval_every=epochs + 1, log=False)
    return hist.steps, hist.train_loss[-1]


def mnist_shaped(device: torch.device, n: int = 60_000) -> Dataset:
    """Random data of MNIST's shape (MNIST itself cannot be downloaded here): the loop's speed
    depends on shapes, not on pixel values."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Dataset("mnist-shaped", "classification", x.to(device), y.to(device), x[:16].to(device),
                   y[:16].to(device), 10)


def bare_step_loop(model: nn.Module, data: Dataset, *, epochs: int, batch_size: int, lr: float,
                   seed: int = 0) -> int:
    """The least an eager PyTorch training loop does per step: gather a shuffled minibatch on the
    device, forward, loss, backward, fused Adam. No metrics, no evaluation, no hooks: how fast a
    loop on eager autograd gets at this batch size, the reference for hwlib's own overhead.
    Returns the optimizer steps."""
    x, y, n = data.x_train, data.y_train, len(data.x_train)
    gen = torch.Generator(device=x.device).manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    steps = 0
    for _ in range(epochs):
        perm = torch.randperm(n, device=x.device, generator=gen)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(x.index_select(0, idx)), y.index_select(0, idx))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    return steps


def compiled_loop(model: nn.Module, data: Dataset, device: torch.device, **kw) -> None:
    """The bare loop with its model torch.compile'd (forward, and backward through AOTAutograd)
    against the same loop eager: whether compiling would pay for hwlib's loop on this device
    (compile time not counted)."""
    start = copy.deepcopy(model.state_dict())
    m = copy.deepcopy(model)
    compiled = torch.compile(m)  # one compiled module, reset before each run: a new module would recompile

    def run_compiled():
        m.load_state_dict(start)
        return bare_step_loop(compiled, data, **kw)

    try:
        pair = side_by_side(run_compiled, lambda: bare_step_loop(copy.deepcopy(model), data, **kw), device,
                            repeats=3)
    except (RuntimeError, OSError) as exc:  # dynamo errors are RuntimeErrors: no C++ compiler, a device it cannot handle
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"bare loop, torch.compile vs eager | not measured: torch.compile failed here ({first[:120]})",
              flush=True)
        return
    report_pair(f"bare loop, torch.compile'd model vs eager (batch {kw['batch_size']}, compile time excluded)",
                pair, device, "compiled", "eager", None)


def compare_loops(what: str, model: nn.Module, data: Dataset, device: torch.device, target: float, **kw):
    """Time both loops on fresh copies of one initialized model; print the line."""
    model = model.to(device)
    pair = side_by_side(lambda: hwlib_fit(copy.deepcopy(model), data, **kw),
                        lambda: canonical_fit(copy.deepcopy(model), data, **kw), device, repeats=REPEATS)
    (steps_a, loss_a), (steps_b, loss_b) = pair.a_out, pair.b_out
    if steps_a != steps_b:  # the same work, or the comparison means nothing
        raise RuntimeError(f"{what}: hwlib took {steps_a} optimizer steps, the canonical loop {steps_b}")
    report_pair(what, pair, device, "hwlib fit", "DataLoader loop", target)
    print(f"    hwlib {spread(pair.a)}; DataLoader {spread(pair.b)}; {steps_a} Adam steps each; "
          f"last-epoch training loss {loss_a:.4g} vs {loss_b:.4g} (different shuffles)", flush=True)
    return pair


def main() -> None:
    device = bench_device()

    # 1a and 2: MNIST-shaped, 60,000 × 784, MLP 784-128-10, batch 128
    data = mnist_shaped(device)
    torch.manual_seed(0)
    mlp = models.mlp([128], in_dim=784, out_dim=10)
    epochs = 2  # two passes: fit's closing evaluation of the training set weighs as it would in a real run
    compare_loops(f"train loop, MNIST-shaped 60000×784, MLP 784-128-10, batch 128, {epochs} epochs",
                  mlp, data, device, 1.3, epochs=epochs, batch_size=128, lr=1e-3)
    compiled_loop(mlp.to(device), data, device, epochs=epochs, batch_size=128, lr=1e-3)
    del data

    # 1b: a ~570-parameter MLP (3 hidden layers, as in 1-1a) on sin(5πx)/(5πx), batch 64
    before = torch.get_num_threads()
    if device.type == "cpu" and not threads_fixed():
        torch.set_num_threads(1)  # as 1-1a runs these nets: threads cost more in synchronization than they save
    data = function_data("sinc", device, n_train=1000, n_test=16)
    torch.manual_seed(0)
    small = models.mlp_for_budget(570, depth=3)
    n_params = models.count_params(small)
    compare_loops(f"train loop, sinc 1000 points, MLP {n_params} params, batch 64, 50 epochs",
                  small, data, device, 2.0, epochs=50, batch_size=64, lr=1e-3)
    torch.set_num_threads(before)


if __name__ == "__main__":
    main()
