"""K MLPs of one architecture as one computation on their (K, P) flat parameters.

An MLP here is an ``nn.Sequential`` of an optional leading Flatten, biased Linear layers and the
activations of ``ACTIVATIONS``. Row k of Θ is model k's parameters in ``named_parameters`` order (each
layer's weight, then its bias), as ``hwlib.flat`` lays them out, so every layer of all K models is
one batched product on views of Θ.

Inside, activations are features × samples, (K, features, B): each layer is W (out, in) @ h (in, B),
with the samples along the long side of the product, where CPU bmm is fastest for these shapes.

Three entry points, each made once per model and then called every step:
- ``forward(model)``: the outputs, differentiable by autograd (evaluation, and training where an
  activation has no written-out derivative, e.g. GELU).
- ``loss_and_grad(model)``: a training step's K losses and their gradient, by the forward pass below and
  the backward pass written out.
- ``grad_and_hvp(model)``: the same, and Hessian-vector products (Pearlmutter's R-operator carried through
  the same two passes): 1-2c's ‖∇L‖² phase and its exact Hessians, without autograd's double backward.

The written-out passes reuse their large intermediate tensors and Θ's views from one step to the next, and
take three shortcuts, all for the layers to and from one unit of 1-1a's, 1-2b's and 1-2c's nets on a 1-D
function: a layer from one input is an outer product (a broadcast multiply), its bias and a ReLU after it
are one pass, and the one-hidden-layer net's gradients come from its ReLU's 0/1 pattern (``_hinge_grads``).
bench/README.md has what each is worth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .losses import LOSSES

# ----------------------------------------------------------------------------- activations: one record each

@dataclass(frozen=True)
class Activation:
    """What the passes need of one elementwise activation σ. The written-out passes keep each activation's
    output s = σ(z), not its input, so every derivative is a function of s. An activation without them (GELU,
    whose derivative needs z) runs in ``forward`` only, and autograd differentiates it."""
    apply_: Callable | None = None  # h -> σ(h), in h's place
    backward_: Callable | None = None  # (d, s) -> d σ'(z), in d's place
    slope: Callable | None = None  # s -> σ'(z), a new tensor
    curvature: Callable | None = None  # s -> σ''(z) / σ'(z); None: σ'' = 0 wherever σ is differentiable (ReLU)


RELU = Activation(torch.Tensor.relu_, lambda d, s: _relu_backward_(d, s), torch.sign)  # sign: 1 where s > 0, else 0
TANH = Activation(torch.Tensor.tanh_, lambda d, s: d.mul_(1 - s * s), lambda s: 1 - s * s, lambda s: -2 * s)
ACTIVATIONS: dict[type, Activation] = {nn.ReLU: RELU, nn.Tanh: TANH, nn.GELU: Activation()}


# ----------------------------------------------------------------------------- the plan: layers as views of Θ

@dataclass(frozen=True)
class Layer:
    """One Linear layer's place in a row of Θ: its weight (n_out × n_in), then its bias (n_out)."""
    start: int
    n_out: int
    n_in: int

    def weight(self, theta: torch.Tensor) -> torch.Tensor:  # (K, n_out, n_in), a view of Θ
        return theta[:, self.start:self.start + self.n_out * self.n_in].view(-1, self.n_out, self.n_in)

    def bias(self, theta: torch.Tensor) -> torch.Tensor:  # (K, n_out), a view of Θ
        end = self.start + self.n_out * self.n_in
        return theta[:, end:end + self.n_out]


@dataclass(frozen=True)
class Elementwise:
    module: nn.Module  # called as it is in ``forward``, under autograd
    act: Activation


@dataclass(frozen=True)
class Plan:
    flatten: bool  # a leading Flatten: inputs (B, ...) become (B, features)
    steps: tuple  # Layer or Elementwise, in order
    n_params: int

    @property
    def first_layer(self) -> int:
        """Index of the first Layer among the steps: the backward pass ends there (nothing before has parameters)."""
        return next(i for i, s in enumerate(self.steps) if isinstance(s, Layer))

    @property
    def written_out(self) -> bool:
        """Whether every activation's derivative follows from its output, as the written-out passes need."""
        return all(isinstance(s, Layer) or s.act.backward_ is not None for s in self.steps)


def plan(model: nn.Module) -> Plan | None:
    """The model's layers as views of a row of Θ; None when it is not such an MLP."""
    if not isinstance(model, nn.Sequential):
        return None
    steps, offset = [], 0
    mods = list(model)
    flatten = bool(mods) and isinstance(mods[0], nn.Flatten) and mods[0].start_dim == 1 and mods[0].end_dim == -1
    for m in mods[1:] if flatten else mods:
        if isinstance(m, nn.Linear) and m.bias is not None:
            steps.append(Layer(offset, m.out_features, m.in_features))
            offset += m.out_features * (m.in_features + 1)
        elif type(m) in ACTIVATIONS:
            steps.append(Elementwise(m, ACTIVATIONS[type(m)]))
        else:
            return None
    if not any(isinstance(s, Layer) for s in steps):
        return None  # no parameters: nothing to train
    return Plan(flatten, tuple(steps), offset)


# ----------------------------------------------------------------------------- the differentiable forward pass

RANK1_LOOP_WIDTH = 64  # from this width a CPU layer to/from one unit runs one addmm per model (see forward)


def forward(model: nn.Module):
    """f(Θ, x, per_model_x) -> (K, B, out), the same function as ``vmap(functional_call)`` without its
    per-operator dispatch; None for any other model."""
    p = plan(model)
    if p is None:
        return None
    # A wide layer to or from one unit is a slow case of CPU bmm under autograd: such nets (1-1a's
    # one-hidden-layer net) run model by model inside the one call.
    per_model = any(isinstance(s, Layer) and min(s.n_out, s.n_in) == 1 and max(s.n_out, s.n_in) >= RANK1_LOOP_WIDTH
                    for s in p.steps)

    def f(theta: torch.Tensor, x: torch.Tensor, per_model_x: bool = False) -> torch.Tensor:
        if p.flatten:
            x = x.flatten(2 if per_model_x else 1)
        if per_model and theta.device.type == "cpu":
            return torch.stack([_chain(theta[i], x[i] if per_model_x else x) for i in range(theta.shape[0])])
        h = x.transpose(-1, -2) if per_model_x else x.t().expand(theta.shape[0], *x.t().shape)
        for step in p.steps:
            h = torch.baddbmm(step.bias(theta)[:, :, None], step.weight(theta), h) if isinstance(step, Layer) \
                else step.module(h)
        return h.transpose(1, 2)

    def _chain(row: torch.Tensor, h: torch.Tensor) -> torch.Tensor:  # one model: (B, in) -> (B, out)
        for step in p.steps:
            h = torch.addmm(step.bias(row[None])[0], h, step.weight(row[None])[0].t()) if isinstance(step, Layer) \
                else step.module(h)
        return h

    return f


# ----------------------------------------------------------------------------- the written-out passes

def loss_and_grad(model: nn.Module):
    """g(Θ, x, y, kind, per_model_x) -> (losses (K,), ∇ (K, P)): each model's mean loss (``hwlib.losses``:
    "regression" or "classification") on its batch, and its gradient, by a backward pass written out. x and y
    are shared (B, ...) or per model (K, B, ...). None when the model is not such an MLP or has an activation
    whose derivative needs its input (GELU): autograd then does it."""
    p = plan(model)
    if p is None or not p.written_out:
        return None
    passes = _Passes(p, _Buffers())
    hinge = _hinge_output(p)

    def g(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, kind: str, per_model_x: bool = False):
        layers = passes.views.of(theta)
        tape, out = passes.forward(theta, layers, x, per_model_x)
        losses, d = LOSSES[kind].with_output_grad(out, y)  # d: a new tensor, so the backward pass may overwrite it
        return losses, passes.backward(theta, layers, tape, d, hinge)[0]

    return g


def grad_and_hvp(model: nn.Module):
    """h(Θ, x, y, kind, per_model_x, v=None) -> (losses (K,), ∇ (K, P), H v (K, P)): ``loss_and_grad``'s losses
    and gradient, and each model's Hessian times v, row by row; v defaults to the gradient itself, so H∇L is
    half the gradient of ‖∇L‖² (what 1-2c's second phase descends). H v is exact: Pearlmutter's R-operator
    (the derivative along v) carried through the same forward and backward pass, without autograd's
    double backward. None where ``loss_and_grad`` is None."""
    p = plan(model)
    if p is None or not p.written_out:
        return None
    # Fresh tensors each call: callers pass a different number of rows from call to call (1-2c's phase 2
    # drops the rows that stopped), and kept buffers would pile up one set per row count.
    passes = _Passes(p, None)
    steps, first = p.steps, p.first_layer

    def h(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, kind: str, per_model_x: bool = False,
          v: torch.Tensor | None = None):
        k = theta.shape[0]
        layers = passes.views.of(theta)  # per Layer: W, Wᵀ, b (K, out, 1)
        loss = LOSSES[kind]
        tape, out = passes.forward(theta, layers, x, per_model_x)
        losses, d = loss.with_output_grad(out, y)
        grad, out_grads = passes.backward(theta, layers, tape, d, hinge=None, keep=True)
        v = grad if v is None else v

        # R-forward: r[i] = the derivative of step i's output along v (None: zero, as for the inputs)
        r, rt = [], None
        for i, step in enumerate(steps):
            if isinstance(step, Layer):
                rz = _affine(step.weight(v), tape[i], step.bias(v)[:, :, None])
                rt = rz if rt is None else rz.baddbmm_(layers[i][0], rt)
            elif rt is not None:
                rt = step.act.slope(tape[i]).mul_(rt)
            r.append(rt)
        rd = loss.output_grad_derivative(out, r[-1])
        # R-backward: rd = the derivative of d along v; H v collects the derivatives of the gradients
        hv = []
        for i in range(len(steps) - 1, first - 1, -1):
            step, t, d = steps[i], tape[i], out_grads[i]
            if isinstance(step, Layer):
                r_in = r[i - 1] if i > 0 else None
                rw = torch.matmul(rd, t.transpose(-1, -2))
                if r_in is not None:
                    rw.baddbmm_(d, r_in.transpose(1, 2))
                hv.append((rw.view(k, -1), rd.sum(-1)))
                if i > first:
                    rd = torch.bmm(step.weight(v).transpose(1, 2), d).baddbmm_(layers[i][1], rd)
            else:
                rd = step.act.slope(t) * rd  # t may be shared (2-D), rd is (K, n, B)
                if r[i] is not None and step.act.curvature is not None:
                    rd.addcmul_(step.act.curvature(t), r[i] * d)
        return losses, grad, torch.cat([t for pair in reversed(hv) for t in pair], 1)

    return h


class _Passes:
    """The forward pass and the backward pass that ``loss_and_grad`` and ``grad_and_hvp`` share, with what they
    keep from one call to the next: Θ's views and (``loss_and_grad``) the large intermediate tensors."""

    def __init__(self, p: Plan, buffers: _Buffers | None):
        self.p, self.views, self.buffers = p, _LayerViews(p), buffers
        steps = p.steps
        self.is_layer = [isinstance(s, Layer) for s in steps]
        # a Layer whose ReLU right after it comes with its bias in one pass (not after the per-model product)
        self.relu_next = [i + 1 < len(steps) and isinstance(steps[i + 1], Elementwise) and steps[i + 1].act is RELU
                          for i in range(len(steps))]

    def _tensor(self, role, shape: tuple, like: torch.Tensor) -> torch.Tensor | None:
        """A kept buffer for ``out=``, or None (a new tensor) when nothing is kept."""
        return None if self.buffers is None else self.buffers.get(role, shape, like)

    def forward(self, theta: torch.Tensor, layers: list, x: torch.Tensor, per_model_x: bool):
        """(tape, outputs (K, out, B)): the tape holds each step's input if a Layer, its output if an activation
        (what the backward pass reads); activations overwrite the Layer outputs they act on."""
        k, steps = theta.shape[0], self.p.steps
        if self.p.flatten:
            x = x.flatten(2 if per_model_x else 1)
        # Shared inputs stay one (features, B) matrix: a product with it is one mm over all K models' rows,
        # where a zero-stride (K, features, B) expansion is a slow case of CPU bmm.
        h = x.transpose(-1, -2)
        b_size = h.shape[-1]
        tape = []
        fresh = False  # h is this function's own tensor (not x, nor on the tape), so an activation may overwrite it
        relu_done = False  # this step is a ReLU already applied with the layer's bias
        for i, step in enumerate(steps):
            if self.is_layer[i]:
                tape.append(h)
                w, _, b = layers[i]
                out = self._tensor(("output", i), (k, step.n_out, b_size), theta)
                if h.dim() == 3 and step.n_in > 1:
                    h = torch.baddbmm(b, w, h, out=out)
                else:  # from one input an outer product (a broadcast multiply); the bias, and a ReLU after it, in one pass
                    h = torch.mul(w, h, out=out) if step.n_in == 1 else torch.matmul(w, h, out=out)
                    relu_done = self.relu_next[i]
                    h = _add_relu_(h, b) if relu_done else h.add_(b)
                fresh = True
            elif relu_done:  # applied with the bias above
                tape.append(h)
                fresh = relu_done = False
            else:
                h = step.act.apply_(h) if fresh else step.module(h)
                tape.append(h)
                fresh = False  # the output is on the tape now
        return tape, h

    def backward(self, theta: torch.Tensor, layers: list, tape: list, d: torch.Tensor, hinge: int | None,
                 keep: bool = False):
        """(∇ (K, P), the gradient at each step's output if ``keep`` else None), from the gradient d at the outputs.
        Without ``keep`` it overwrites d, and the hidden layer of the ``hinge`` shortcut."""
        k, steps, first = theta.shape[0], self.p.steps, self.p.first_layer
        out_grads = [None] * len(steps) if keep else None
        grads = []
        for i in range(len(tape) - 1, first - 1, -1):
            t = tape[i]
            if keep:
                out_grads[i] = d
            if not self.is_layer[i]:
                d = steps[i].act.backward_(d.clone() if keep else d, t)
                continue
            if i == hinge:  # this layer's and the first one's gradients from the ReLU's 0/1 pattern
                grads += reversed(_hinge_grads(layers[first], layers[i][0], d, tape[first], tape[first + 1]))
                break
            # dL/dW = d · inputᵀ, dL/db
            dw = torch.bmm(d, t.transpose(1, 2)) if t.dim() == 3 else torch.matmul(d, t.t())
            grads += (d.sum(-1), dw.view(k, -1))
            if i == first:
                break  # nothing before this layer has parameters
            # dL/d(input) = Wᵀ d; to one output unit that is an outer product (a broadcast multiply)
            w = layers[i][1]  # Wᵀ
            into = self._tensor(("input grad", i), (k, steps[i].n_in, d.shape[-1]), theta)
            d = torch.mul(w, d, out=into) if steps[i].n_out == 1 else torch.bmm(w, d, out=into)
        grads.reverse()  # Θ's order: each layer's weight, then its bias
        return torch.cat(grads, 1), out_grads


def _hinge_output(p: Plan) -> int | None:
    """The index of the output layer when the net is x (one feature) -> Linear -> ReLU -> Linear (one output), as
    1-1a's one-hidden-layer nets are; None otherwise. ``_hinge_grads`` then gives both layers' gradients."""
    i = p.first_layer
    s = p.steps
    if (i + 2 < len(s) and s[i].n_in == 1 and isinstance(s[i + 1], Elementwise) and s[i + 1].act is RELU
            and isinstance(s[i + 2], Layer) and s[i + 2].n_out == 1):
        return i + 2
    return None


def _hinge_grads(first: tuple, w2: torch.Tensor, d: torch.Tensor, x: torch.Tensor, hidden: torch.Tensor):
    """dL/dW₁, dL/db₁, dL/dW₂, dL/db₂ of x -> Linear -> ReLU -> Linear -> one output, from the first layer's
    views (W₁ (K, H, 1), W₁ᵀ, b₁ (K, H, 1)), the output layer's weights w2 (K, 1, H), the gradient d (K, 1, B)
    at the output, the inputs x (1, B) or (K, 1, B) and the ReLU's outputs (K, H, B), which it overwrites.

    With p = [hidden > 0], unit j's gradient at sample n is w2ⱼ dₙ pⱼₙ, rank one but for p, so
    dL/dW₁ⱼ = w2ⱼ Σₙ pⱼₙ dₙ xₙ and dL/db₁ⱼ = w2ⱼ Σₙ pⱼₙ dₙ: one product of p with two rows. And as
    hiddenⱼₙ = pⱼₙ (W₁ⱼ xₙ + b₁ⱼ), dL/dW₂ⱼ = Σₙ hiddenⱼₙ dₙ = W₁ⱼ Σₙ pⱼₙ dₙ xₙ + b₁ⱼ Σₙ pⱼₙ dₙ, from the same
    two sums. Its rounding error is bounded as the direct sum's: both are ε |W₁ⱼ| Σₙ |dₙ| (|xₙ| + |b₁ⱼ / W₁ⱼ|)
    at most. The usual way reads the (K, H, B) hidden layer once more for dL/dW₂ and makes the (K, H, B)
    gradient, masks it and reads it twice: five passes over it against two here (the pattern, the product).
    The two sums are one (2, B) by (B, H) product: the other way round, (H, B) by (B, 2), is a slow MKL case."""
    w1, _, b1 = first
    pattern = hidden.sign_()  # 1 where the ReLU passed its input, 0 where not (its outputs are ≥ 0)
    s1, s0 = torch.bmm(torch.cat([d * x, d], 1), pattern.transpose(1, 2)).unbind(1)  # (K, H) each
    w2 = w2[:, 0]
    # W₁ is (H, 1) and W₂ (1, H): the flat layout of each is its H numbers in order
    return w2 * s1, w2 * s0, torch.addcmul(b1[..., 0] * s0, w1[..., 0], s1), d.sum(-1)


def _affine(w: torch.Tensor, t: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """W t + b for weights (K, out, in), inputs (K, in, B) or shared (in, B), biases (K, out, 1)."""
    return torch.matmul(w, t).add_(b) if t.dim() == 2 else torch.baddbmm(b, w, t)


class _LayerViews:
    """Each Layer's weight (K, out, in), its transpose and its bias (K, out, 1), as views of one Θ, made once
    for that Θ (they are most of a small step's fixed cost). Θ is updated in place from step to step, so the
    views follow it."""

    def __init__(self, p: Plan):
        self.p, self._key, self._views = p, None, None

    def of(self, theta: torch.Tensor) -> list:
        # The views keep Θ's memory alive, so no other tensor can take its address while they are kept.
        key = (theta.data_ptr(), theta.shape, theta.stride(), theta.dtype, theta.device)
        if key != self._key:
            t = theta.detach()
            self._views = [(s.weight(t), s.weight(t).transpose(1, 2), s.bias(t)[:, :, None]) if isinstance(s, Layer)
                           else None for s in self.p.steps]
            self._key = key
        return self._views


class _Buffers:
    """Tensors kept from one training step to the next, by role and shape: allocated anew each step, large
    ones (1-1a's one-hidden-layer nets make three (4, 190, 1,000) tensors a step) cost page faults and cold
    caches."""

    def __init__(self):
        self._kept: dict = {}

    def get(self, role, shape: tuple, like: torch.Tensor) -> torch.Tensor:
        key = (role, shape, like.dtype, like.device)
        if key not in self._kept:
            self._kept[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return self._kept[key]


# ----------------------------------------------------------------------------- private torch operators, guarded
# Two aten operators that torch does not document, each with a public fallback of the same result. Each is
# tried once, here, on a small example, and used only where it runs and agrees: a torch release that renames
# or drops one costs speed, never a result.


def _relu_backward_public_(d: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """dL/d(input) of a ReLU in d's place, from dL/d(output) d and the ReLU's output: 0 where the output is ≤ 0."""
    return d.masked_fill_(out <= 0, 0)


def _add_relu_public_(h: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h + b, then ReLU, in h's place: two passes over h."""
    return h.add_(b).relu_()


def _private_or_public(private: Callable[[], Callable], public: Callable, example: Callable[[], tuple]) -> Callable:
    """``private()``'s operator where it exists and gives ``public``'s result on ``example()``, else ``public``."""
    try:
        fast = private()
        if torch.equal(fast(*example()), public(*example())):
            return fast
    except (AttributeError, RuntimeError, TypeError, NotImplementedError):  # gone, renamed or refused
        pass
    return public


def _gradient_and_relu_output() -> tuple[torch.Tensor, torch.Tensor]:  # outputs > 0 and = 0 (ReLU's are ≥ 0)
    return torch.tensor([[-2.0, 0.5, 1.5], [3.0, -0.5, 4.0]]), torch.tensor([[0.0, 0.5, 2.0], [1.0, 0.0, 3.0]])


def _outputs_and_bias() -> tuple[torch.Tensor, torch.Tensor]:  # sums on both sides of zero, and zero itself
    return torch.tensor([[-2.0, 0.0, 1.5], [3.0, -0.5, 1.0]]), torch.tensor([[0.5], [-1.0]])


def _relu_backward_private() -> Callable:
    grad_input = torch.ops.aten.threshold_backward.grad_input  # autograd's own ReLU backward, bound once
    return lambda d, out: grad_input(d, out, 0, grad_input=d)


def choose_private_ops() -> tuple[Callable, Callable]:
    """(ReLU backward in place, bias then ReLU in place on a CPU): aten's own kernels, one pass each, where they
    run and agree; the public two-operator forms otherwise."""
    return (_private_or_public(_relu_backward_private, _relu_backward_public_, _gradient_and_relu_output),
            _private_or_public(lambda: torch._add_relu_, _add_relu_public_, _outputs_and_bias))  # a CPU-only kernel


_relu_backward_, _add_relu_cpu_ = choose_private_ops()


def _add_relu_(h: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return _add_relu_cpu_(h, b) if h.device.type == "cpu" else _add_relu_public_(h, b)
