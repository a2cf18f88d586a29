"""Models built from a parameter budget, and counts taken from the model itself.

Deep-vs-shallow comparisons are only fair at (nearly) equal parameter counts, so widths are
solved from a budget by searching over real models, never hand-picked: every model returned
by ``mlp_for_budget``/``cnn_for_budget`` lies within 1 % of the budget (so any two of them
within 2 % of each other), or the solver says it cannot.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}

BUDGET_TOLERANCE = 0.01  # each model within 1 % of the budget → any two within 2 % of each other


def count_params(model: nn.Module) -> int:
    """Trainable parameters, counted from the tensors (never from a layer's shape by hand)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- fully connected

def mlp(widths: list[int], in_dim: int = 1, out_dim: int = 1, activation: str = "relu") -> nn.Sequential:
    """in_dim → widths[0] → … → widths[-1] → out_dim, an activation after every hidden layer.
    Image inputs are flattened first, so the same family serves 1-D functions and images."""
    if not widths or any(int(w) < 1 for w in widths):
        raise ValueError(f"widths={widths!r}: an MLP needs at least one hidden layer, every width ≥ 1")
    layers: list[nn.Module] = [nn.Flatten()]
    prev = in_dim
    for w in widths:
        layers += [nn.Linear(prev, int(w)), ACTIVATIONS[activation]()]
        prev = int(w)
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


def mlp_param_count(widths: list[int], in_dim: int, out_dim: int) -> int:
    dims = [in_dim, *widths, out_dim]
    return sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))


def _last_width_solve(count: Callable[[int, int], int], budget: int, depth: int, what: str) -> tuple[int, int]:
    """(h, w) for ``depth`` layers of width h but the last, of width w, with count(h, w) closest to
    ``budget``. Counts of equal-width stacks jump by ~h² per unit of h; the last width closes the
    gap (the count is linear in it). Among solutions within tolerance the most uniform wins."""
    tol = BUDGET_TOLERANCE * budget
    best, closest = None, None
    for h in range(1, budget + 1):
        if depth == 1:
            pairs = [(h, h)]
        else:
            slope = count(h, 2) - count(h, 1)
            w_star = max(1, round((budget - count(h, 1)) / slope) + 1)
            pairs = [(h, w) for w in (w_star - 1, w_star, w_star + 1) if w >= 1]
        for pair in pairs:
            diff = abs(count(*pair) - budget)
            if closest is None or diff < closest[0]:
                closest = (diff, pair)
            if diff <= tol:
                key = (abs(pair[1] - pair[0]) / pair[0], diff)
                if best is None or key < best[0]:
                    best = (key, pair)
        if count(h, h) > 2 * budget:
            break
    if best is None:
        diff, pair = closest
        raise ValueError(f"budget={budget} is too small for depth={depth}: the closest {what} has "
                         f"{count(*pair)} parameters; raise the budget or lower the depth")
    return best[1]


def solve_mlp_widths(budget: int, depth: int, in_dim: int = 1, out_dim: int = 1) -> list[int]:
    """Widths for ``depth`` hidden layers, within 1 % of ``budget``, as uniform as possible."""
    if depth < 1:
        raise ValueError(f"depth={depth}: an MLP needs at least one hidden layer")

    def count(h: int, w: int) -> int:
        return mlp_param_count([h] * (depth - 1) + [w], in_dim, out_dim)

    h, w = _last_width_solve(count, budget, depth, "MLP")
    return [h] * (depth - 1) + [w]


def mlp_for_budget(budget: int, depth: int, in_dim: int = 1, out_dim: int = 1,
                   activation: str = "relu") -> nn.Sequential:
    return mlp(solve_mlp_widths(budget, depth, in_dim, out_dim), in_dim, out_dim, activation)


# ---------------------------------------------------------------- convolutional

def _cnn_plan(input_shape: tuple[int, int, int], channels: list[int]) -> tuple[list[tuple[int, int, bool]], int]:
    """The blocks of ``cnn`` as (in channels, out channels, pooled after) and the classifier's input
    size: the one place the architecture is laid out, for the builder and the count alike."""
    c_in, h, w = input_shape
    blocks = []
    for i, c in enumerate(channels):
        last = i == len(channels) - 1
        pool = (i % 2 == 1 or (len(channels) == 1 and last)) and min(h, w) > 2
        blocks.append((c_in, int(c), pool))
        c_in = int(c)
        if pool:
            h, w = h // 2, w // 2
    return blocks, c_in * h * w


def cnn(input_shape: tuple[int, int, int], n_classes: int, channels: list[int],
        batchnorm: bool = False) -> nn.Sequential:
    """3×3 conv blocks (conv → [BatchNorm] → ReLU), a 2×2 max-pool after every second block
    (after the only block of a one-block net) while the map is larger than 2×2, then a linear
    classifier on the flattened map.

    A shallow CNN is one wide block; a deep one is several narrow blocks, pooled more often,
    so most of its parameters sit in convolutions rather than in the classifier.

    The weights are stored channels-last (NHWC): the same numbers, laid out so that CPU max-pooling
    and convolution run 1.2-1.6× faster per training step and 1.4-2× per evaluation on these small
    images (measured on 8×8 digits, one thread); cuDNN convolves NHWC natively too.
    """
    if not channels or any(int(c) < 1 for c in channels):
        raise ValueError(f"channels={channels!r}: a CNN needs at least one conv block, every width ≥ 1")
    blocks, flat_size = _cnn_plan(input_shape, channels)
    layers: list[nn.Module] = []
    for c_in, c, pool in blocks:
        layers.append(nn.Conv2d(c_in, c, 3, padding=1, bias=not batchnorm))
        if batchnorm:
            layers.append(nn.BatchNorm2d(c))
        layers.append(nn.ReLU())
        if pool:
            layers.append(nn.MaxPool2d(2))
    layers.append(nn.Flatten())
    layers.append(nn.Linear(flat_size, n_classes))
    return nn.Sequential(*layers).to(memory_format=torch.channels_last)


def cnn_param_count(input_shape: tuple[int, int, int], n_classes: int, channels: list[int],
                    batchnorm: bool = False) -> int:
    """``count_params(cnn(...))`` without building the model: the width solvers below try thousands of
    widths, and building each model took 8 s of 1-1b's quick run (tests/test_models.py checks the two agree)."""
    blocks, flat_size = _cnn_plan(input_shape, channels)
    per_block = sum(9 * c_in * c + (2 * c if batchnorm else c) for c_in, c, _ in blocks)
    return per_block + flat_size * n_classes + n_classes


def cnn_channels_for_budget(budget: int, depth: int, input_shape: tuple[int, int, int], n_classes: int,
                            batchnorm: bool = False) -> list[int]:
    """Channel widths of ``depth`` blocks (equal but the last) whose CNN is within 1 % of ``budget``.
    A one-block net has no free width to fine-tune: it is the closest, and deeper nets are then
    solved for its exact count (see ``cnn_family``)."""
    if depth < 1:
        raise ValueError(f"depth={depth}: a CNN needs at least one conv block")

    def count(c: int, c_last: int) -> int:
        return cnn_param_count(input_shape, n_classes, [c] * (depth - 1) + [c_last], batchnorm)

    if depth == 1:
        c = min(range(1, 4096), key=lambda c: abs(count(c, c) - budget))
        return [c]
    c, c_last = _last_width_solve(count, budget, depth, "CNN")
    return [c] * (depth - 1) + [c_last]


def cnn_for_budget(budget: int, depth: int, input_shape: tuple[int, int, int], n_classes: int,
                   batchnorm: bool = False) -> nn.Sequential:
    return cnn(input_shape, n_classes, cnn_channels_for_budget(budget, depth, input_shape, n_classes, batchnorm),
               batchnorm)


def cnn_family(budget: int, depths: list[int], input_shape: tuple[int, int, int], n_classes: int,
               batchnorm: bool = False) -> list[nn.Sequential]:
    """CNNs of several depths at one count: the first depth is solved for ``budget``, the others
    for the first one's exact count, so all lie within 1 % of it (2 % of each other)."""
    first = cnn_for_budget(budget, depths[0], input_shape, n_classes, batchnorm)
    target = count_params(first)
    return [first] + [cnn_for_budget(target, d, input_shape, n_classes, batchnorm) for d in depths[1:]]


# ---------------------------------------------------------------- description

def describe(model: nn.Module) -> dict:
    """What the settings tables show: layer kinds and widths, read from the model. A CNN's structure names
    every layer of a block, "Conv3×3(1→17)+BN+ReLU", and each max-pool where it is ("MaxPool2×2"); an MLP's
    names its linear layers, its activation being named beside it."""
    layers, widths = [], []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            layers.append(f"Linear({m.in_features}→{m.out_features})")
            widths.append(m.out_features)
        elif isinstance(m, nn.Conv2d):
            layers.append(f"Conv{m.kernel_size[0]}×{m.kernel_size[1]}({m.in_channels}→{m.out_channels})")
            widths.append(m.out_channels)
        elif layers and layers[-1].startswith("Conv") and isinstance(m, (nn.BatchNorm2d, nn.ReLU)):
            layers[-1] += "+BN" if isinstance(m, nn.BatchNorm2d) else "+ReLU"
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            layers.append(f"MaxPool{k}×{k}")
    hidden = widths[:-1]
    return {"layers": len(layers), "hidden_layers": len(hidden), "widths": hidden,
            "structure": " · ".join(layers), "params": count_params(model)}
