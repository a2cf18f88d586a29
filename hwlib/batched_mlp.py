"""K MLPs of one architecture as one computation on their (K, P) flat parameters.

An MLP here is an ``nn.Sequential`` of an optional leading Flatten, biased Linear layers and
elementwise activations. Row k of Θ is model k's parameters in ``named_parameters`` order (each
layer's weight, then its bias), as ``hwlib.flat`` lays them out, so every layer of all K models is
one batched product on views of Θ.

Inside, activations are features × samples, (K, features, B): each layer is W (out, in) @ h (in, B),
with the samples along the long side of the product. CPU bmm with the samples on the short side,
(B, in) @ (in, out), ran 2.6× slower per training step for 1-1a's 6-layer nets (K = 4, B = 1,000,
one thread).

Three entry points:
- ``forward(model)``: the outputs (evaluation; autograd differentiates them where nothing below applies,
  e.g. GELU nets).
- ``loss_and_grad(model)``: a training step's K losses and their gradient, with the backward pass
  written out (and a shorter one for 1-1a's one-hidden-layer net, ``_hinge_grads``). A step of 1-1a's
  3-layer nets is about 30 computing operations this way, against about
  65 and some 80 views and slices through autograd (slice backward, zero-filled gradient buffers and
  their sums; counted with the profiler).
- ``grad_and_hvp(model)``: the same, and Hessian-vector products carried through the same pass
  (1-2c's ‖∇L‖² phase and its exact Hessians), without autograd's double backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

# Modules that act on each number alone: an MLP made of these and Linear layers runs batched here.
ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.Identity)
# Those whose derivative is a function of their output, so the backward pass needs no pre-activations.
FROM_OUTPUT = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity)
RANK1_LOOP_WIDTH = 64  # from this width a CPU layer to/from one unit runs one addmm per model (see forward)


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
class Plan:
    flatten: bool  # a leading Flatten: inputs (B, ...) become (B, features)
    steps: tuple  # Layer or an elementwise nn.Module, in order
    n_params: int

    @property
    def first_layer(self) -> int:
        """Index of the first Layer among the steps: the backward pass ends there (nothing before has parameters)."""
        return next(i for i, s in enumerate(self.steps) if isinstance(s, Layer))


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
        elif isinstance(m, ELEMENTWISE):
            steps.append(m)
        else:
            return None
    if not any(isinstance(s, Layer) for s in steps):
        return None  # no parameters: nothing to train
    return Plan(flatten, tuple(steps), offset)


def _plan_written_out(model: nn.Module) -> Plan | None:
    """The plan, where every activation's derivative follows from its output (the written-out passes)."""
    p = plan(model)
    return p if p is not None and all(isinstance(s, (Layer, *FROM_OUTPUT)) for s in p.steps) else None


def _features_by_samples(p: Plan, theta: torch.Tensor, x: torch.Tensor, per_model_x: bool) -> torch.Tensor:
    """x, shared (B, ...) or per model (K, B, ...), as (K, features, B)."""
    if p.flatten:
        x = x.flatten(2 if per_model_x else 1)
    return x.transpose(-1, -2) if per_model_x else x.t().expand(theta.shape[0], *x.t().shape)


def forward(model: nn.Module):
    """f(Θ, x, per_model_x) -> (K, B, out), the same function as ``vmap(functional_call)`` without its
    per-operator dispatch (1.5-1.7× faster per step for 1-1a's nets on a CPU); None for any other model."""
    p = plan(model)
    if p is None:
        return None
    # A wide layer to or from one unit is a slow case of CPU bmm under autograd: 1-1a's one-hidden-layer
    # net (190 units) took 10 ms a step for 4 models batched, 4 ms with one addmm chain per model
    # (measured here). Such nets run model by model inside the one step.
    per_model = any(isinstance(s, Layer) and min(s.n_out, s.n_in) == 1 and max(s.n_out, s.n_in) >= RANK1_LOOP_WIDTH
                    for s in p.steps)

    def f(theta: torch.Tensor, x: torch.Tensor, per_model_x: bool = False) -> torch.Tensor:
        if per_model and theta.device.type == "cpu":
            if p.flatten:
                x = x.flatten(2 if per_model_x else 1)
            return torch.stack([_chain(theta[i], x[i] if per_model_x else x) for i in range(theta.shape[0])])
        h = _features_by_samples(p, theta, x, per_model_x)
        for step in p.steps:
            h = torch.baddbmm(step.bias(theta)[:, :, None], step.weight(theta), h) if isinstance(step, Layer) else step(h)
        return h.transpose(1, 2)

    def _chain(row: torch.Tensor, h: torch.Tensor) -> torch.Tensor:  # one model: (B, in) -> (B, out)
        for step in p.steps:
            if isinstance(step, Layer):
                w = step.weight(row[None])[0]
                h = torch.addmm(step.bias(row[None])[0], h, w.t())
            else:
                h = step(h)
        return h

    return f


def loss_and_grad(model: nn.Module):
    """g(Θ, x, y, kind, per_model_x) -> (losses (K,), ∇ (K, P)): each model's mean loss (``kind``
    "regression": squared error, "classification": cross-entropy on logits) on its batch, and its
    gradient, by a backward pass written out. y is shared (B, ...) or per model (K, B, ...). None
    when the model is not such an MLP or has an activation whose derivative needs its input (GELU):
    autograd then does it."""
    p = _plan_written_out(model)
    if p is None:
        return None
    kept = _Buffers()
    views = _LayerViews(p)
    first = p.first_layer
    hinge_output = _hinge_output(p)
    steps = p.steps
    is_layer = [isinstance(s, Layer) for s in steps]
    # a Layer whose ReLU right after it comes with its bias in one pass (not after the per-model baddbmm)
    relu_next = [i + 1 < len(steps) and isinstance(steps[i + 1], nn.ReLU) for i in range(len(steps))]
    # what an activation step does to h in place and to the gradient in place; the work per step is a few
    # microseconds of tensor operations, so the Python around them is kept short
    forward_ = [None if is_layer[i] else _in_place_activation(s) for i, s in enumerate(steps)]
    backward_ = [None if is_layer[i] else _in_place_activation_grad(s) for i, s in enumerate(steps)]

    def g(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, kind: str, per_model_x: bool = False):
        k = theta.shape[0]
        layers = views.of(theta)
        if p.flatten:
            x = x.flatten(2 if per_model_x else 1)
        # Shared inputs stay one (features, B) matrix: a product with it is one mm over all K models'
        # rows. Expanded to (K, features, B) with a zero stride, CPU bmm took 6× longer (measured here).
        h = x.transpose(-1, -2)
        b_size = h.shape[-1]
        tape = []  # each step's input if a Layer, its output if an activation
        fresh = False  # h is this function's own tensor (not x), so an activation may overwrite it
        relu_done = False  # this step is a ReLU already applied with the layer's bias
        for i, step in enumerate(steps):
            if is_layer[i]:
                tape.append(h)
                w, _, b = layers[i]
                out = kept.get(("output", i), (k, step.n_out, b_size), theta)
                if h.dim() == 3 and step.n_in > 1:
                    h = torch.baddbmm(b, w, h, out=out)
                else:  # an outer product (n_in = 1) by broadcast multiply, 1.5× faster than baddbmm here
                    h = torch.mul(w, h, out=out) if step.n_in == 1 else torch.matmul(w, h, out=out)
                    # the bias, and a ReLU right after it, in one pass over the output
                    relu_done = relu_next[i]
                    h = _add_relu_(h, b) if relu_done else h.add_(b)
                fresh = True
            elif relu_done:  # applied with the bias above
                tape.append(h)
                fresh = relu_done = False
            else:
                h = forward_[i](h) if fresh else step(h)
                tape.append(h)
                # the output is on the tape now; only Identity's (its input itself) is not needed there
                fresh = fresh and isinstance(step, nn.Identity)
        losses, d = _loss_and_output_grad(h, y, kind)  # d: a new tensor, so the steps below may overwrite it
        grads = []
        for i in range(len(tape) - 1, -1, -1):
            t = tape[i]
            if not is_layer[i]:
                d = backward_[i](d, t)
                continue
            if i == hinge_output:  # this layer's and the first one's gradients from the ReLU's 0/1 pattern
                grads += reversed(_hinge_grads(layers[first], layers[i][0], d, tape[first], tape[first + 1]))
                break
            # dL/dW = d · inputᵀ, dL/db
            dw = torch.bmm(d, t.transpose(1, 2)) if t.dim() == 3 else torch.matmul(d, t.t())
            grads += (d.sum(-1), dw.view(k, -1))
            if i == first:
                break  # nothing before this layer has parameters (the tape has one entry per step)
            # dL/d(input) = Wᵀ d; to one output unit that is an outer product (broadcast)
            w = layers[i][1]  # Wᵀ
            into = kept.get(("input grad", i), (k, steps[i].n_in, b_size), theta)
            d = torch.mul(w, d, out=into) if steps[i].n_out == 1 else torch.bmm(w, d, out=into)
        grads.reverse()  # Θ's order: each layer's weight, then its bias
        return losses, torch.cat(grads, 1)

    return g


def grad_and_hvp(model: nn.Module):
    """h(Θ, x, y, kind, per_model_x, v=None) -> (losses (K,), ∇ (K, P), H v (K, P)): ``loss_and_grad``'s losses
    and gradient, and each model's Hessian times v, row by row; v defaults to the gradient itself, so H∇L is
    half the gradient of ‖∇L‖² (what 1-2c's second phase descends). H v is exact: Pearlmutter's R-operator
    (the derivative along v) carried through the same forward and backward pass, without autograd's
    double backward. None where ``loss_and_grad`` is None."""
    p = _plan_written_out(model)
    if p is None:
        return None
    views = _LayerViews(p)  # Θ's views, made once (phase 2 calls this every step on the same Θ)
    act_grad = [None if isinstance(s, Layer) else _in_place_activation_grad(s) for s in p.steps]

    def h(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, kind: str, per_model_x: bool = False,
          v: torch.Tensor | None = None):
        k = theta.shape[0]
        layers = views.of(theta)  # per Layer: W, Wᵀ, b (K, out, 1)
        if p.flatten:
            x = x.flatten(2 if per_model_x else 1)
        values = [x.transpose(-1, -2)]  # values[i]: the input of step i; values[-1]: the outputs
        for i, step in enumerate(p.steps):
            t = values[-1]
            values.append(_affine(layers[i][0], t, layers[i][2]) if isinstance(step, Layer) else step(t))
        losses, d = _loss_and_output_grad(values[-1], y, kind)
        out_grads = [None] * len(p.steps)  # out_grads[i]: dL/d(output of step i)
        grads = []
        for i in range(len(p.steps) - 1, -1, -1):
            step, t = p.steps[i], values[i]
            out_grads[i] = d
            if isinstance(step, Layer):
                grads.append((torch.matmul(d, t.transpose(-1, -2)).view(k, -1), d.sum(-1)))
                d = torch.bmm(layers[i][1], d)
            else:
                d = act_grad[i](d.clone(), values[i + 1])
        grad = torch.cat([t for pair in reversed(grads) for t in pair], 1)
        v = grad if v is None else v

        # R-forward: r[i] = the derivative of values[i] along v (None: zero, as for the inputs)
        r = [None]
        for i, step in enumerate(p.steps):
            t, rt = values[i], r[-1]
            if isinstance(step, Layer):
                rz = _affine(step.weight(v), t, step.bias(v)[:, :, None])
                r.append(rz if rt is None else rz.baddbmm_(layers[i][0], rt))
            else:
                r.append(None if rt is None else _activation_slope(step, values[i + 1]).mul_(rt))
        rd = _output_grad_derivative(values[-1], r[-1], kind)
        # R-backward: rd = the derivative of d along v; H v collects the derivatives of the gradients
        hv = []
        for i in range(len(p.steps) - 1, -1, -1):
            step, t, rt, d = p.steps[i], values[i], r[i], out_grads[i]
            if isinstance(step, Layer):
                rw = torch.matmul(rd, t.transpose(-1, -2))
                if rt is not None:
                    rw.baddbmm_(d, rt.transpose(1, 2))
                hv.append((rw.view(k, -1), rd.sum(-1)))
                rd = torch.bmm(step.weight(v).transpose(1, 2), d).baddbmm_(layers[i][1], rd)
            else:
                out, r_out = values[i + 1], r[i + 1]
                rd = _activation_slope(step, out) * rd  # out may be shared (2-D), rd is (K, n, B)
                if r_out is not None and not isinstance(step, (nn.ReLU, nn.Identity)):  # their slope is locally constant
                    rd.addcmul_(_activation_curvature(step, out), r_out * d)
        return losses, grad, torch.cat([t for pair in reversed(hv) for t in pair], 1)

    return h


def _hinge_output(p: Plan) -> int | None:
    """The index of the output layer when the net is x (one feature) -> Linear -> ReLU -> Linear (one output), as
    1-1a's one-hidden-layer nets are; None otherwise. ``_hinge_grads`` then gives both layers' gradients."""
    i = p.first_layer
    s = p.steps
    if (i + 2 < len(s) and s[i].n_in == 1 and isinstance(s[i + 1], nn.ReLU)
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
    1-1a's depth-1 step (K = 4, H = 190, B = 1,000, one CPU thread) was 1.22–1.33× faster with the first
    layer's sums, then 1.11–1.14× with dL/dW₂ from them (measured here, side by side)."""
    w1, _, b1 = first
    pattern = hidden.sign_()  # 1 where the ReLU passed its input, 0 where not (its outputs are ≥ 0)
    s1, s0 = torch.bmm(torch.cat([d * x, d], 1), pattern.transpose(1, 2)).unbind(1)  # (K, H) each
    w2 = w2[:, 0]
    # W₁ is (H, 1) and W₂ (1, H): the flat layout of each is its H numbers in order
    return w2 * s1, w2 * s0, torch.addcmul(b1[..., 0] * s0, w1[..., 0], s1), d.sum(-1)


def _add_relu_(h: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h + b, then ReLU, in h's place: one pass over h on a CPU (aten's fused kernel, which only the CPU
    has), two elsewhere."""
    if _fuses_add_relu(h):
        return torch._add_relu_(h, b)
    return h.add_(b).relu_()


def _fuses_add_relu(h: torch.Tensor) -> bool:
    return h.device.type == "cpu"


def _affine(w: torch.Tensor, t: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """W t + b for weights (K, out, in), inputs (K, in, B) or shared (in, B), biases (K, out, 1)."""
    return torch.matmul(w, t).add_(b) if t.dim() == 2 else torch.baddbmm(b, w, t)


def _activation_slope(m: nn.Module, out: torch.Tensor) -> torch.Tensor:
    """σ'(z) from the output σ(z), as a new tensor."""
    if isinstance(m, nn.ReLU):
        return torch.sign(out)  # 1 where the output is > 0, else 0 (ReLU's outputs are ≥ 0)
    if isinstance(m, nn.Tanh):
        return 1 - out * out
    if isinstance(m, nn.Sigmoid):
        return out * (1 - out)
    return torch.ones_like(out)


def _activation_curvature(m: nn.Module, out: torch.Tensor) -> torch.Tensor:
    """The derivative of σ'(z) with respect to σ(z): σ''(z) / σ'(z), from the output (tanh, sigmoid)."""
    return -2 * out if isinstance(m, nn.Tanh) else 1 - 2 * out


def _output_grad_derivative(out: torch.Tensor, r_out: torch.Tensor, kind: str) -> torch.Tensor:
    """The derivative of ``_loss_and_output_grad``'s gradient along a change r_out of the outputs (K, out, B)."""
    _, n_out, b = out.shape
    if kind == "classification":  # the softmax's Jacobian: diag(p) − p pᵀ, per sample
        prob = torch.softmax(out, 1)
        return prob * (r_out - (prob * r_out).sum(1, keepdim=True)) / b
    return r_out * (2.0 / (n_out * b))


class _LayerViews:
    """Each Layer's weight (K, out, in), its transpose and its bias (K, out, 1), as views of one Θ, made once
    for that Θ. Θ is updated in place from step to step, so the views follow it. Made anew each step they
    were 7 view operations a layer; made once, a step's fixed cost (1-1a's nets, K = 4, 8 samples, one CPU
    thread) fell 1.2× at depth 1 and 1.4× at depth 6 (measured here, side by side)."""

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
    """Tensors kept from one training step to the next, by role and shape. A step of 1-1a's one-hidden-layer
    nets makes three (4, 190, 1,000) tensors; allocated anew each step they cost page faults and cold
    caches, and reusing them made the step 1.6× faster on a CPU (measured here)."""

    def __init__(self):
        self._kept: dict = {}

    def get(self, role, shape: tuple, like: torch.Tensor) -> torch.Tensor:
        key = (role, shape, like.dtype, like.device)
        if key not in self._kept:
            self._kept[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return self._kept[key]


def _in_place_activation(m: nn.Module):
    """h -> the activation of h, in h's place."""
    if isinstance(m, nn.ReLU):
        return torch.Tensor.relu_
    if isinstance(m, nn.Tanh):
        return torch.Tensor.tanh_
    if isinstance(m, nn.Sigmoid):
        return torch.Tensor.sigmoid_
    return lambda h: h  # Identity


_RELU_GRAD_ = torch.ops.aten.threshold_backward.grad_input  # bound once: looked up per call it cost 1.5 µs


def _in_place_activation_grad(m: nn.Module):
    """(d, out) -> dL/d(input) of the activation from dL/d(output) d and its output, in d's place."""
    if isinstance(m, nn.ReLU):  # autograd's own ReLU backward: zero where the output is ≤ 0
        return lambda d, out: _RELU_GRAD_(d, out, 0, grad_input=d)
    if isinstance(m, nn.Tanh):
        return lambda d, out: d.mul_(1 - out * out)
    if isinstance(m, nn.Sigmoid):
        return lambda d, out: d.mul_(out * (1 - out))
    return lambda d, out: d  # Identity


def _loss_and_output_grad(out: torch.Tensor, y: torch.Tensor, kind: str):
    """(K,) mean losses of outputs (K, out, B) and their gradient with respect to those outputs."""
    k, n_out, b = out.shape
    if kind == "classification":
        target = (y if y.dim() == 2 else y.expand(k, b))[:, None, :]  # (K, 1, B) class indices
        lse = torch.logsumexp(out, 1, keepdim=True)  # (K, 1, B)
        losses = (lse - out.gather(1, target)).mean((1, 2))
        d = (out - lse).exp_()  # softmax
        d.scatter_add_(1, target, torch.full(target.shape, -1.0, dtype=d.dtype, device=d.device))
        return losses, d.div_(b)
    r = out - y.transpose(-1, -2)  # y: (B, out) shared or (K, B, out) per model
    losses = r.square().sum((1, 2)) / (n_out * b)
    return losses, r.mul_(2.0 / (n_out * b))
