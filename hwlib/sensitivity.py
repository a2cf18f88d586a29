"""Input sensitivity (Novak et al. 2018): how much the output moves when the input moves.

For each evaluation sample x_i, J_i = ∂ logits(x_i) / ∂ x_i (shape n_outputs × input size) and
its Frobenius norm ‖J_i‖_F. The sensitivity of a model is the mean of ‖J_i‖_F over one fixed
evaluation set. It is taken of the logits, not of the loss: the loss Jacobian shrinks to zero
on every sample the model fits confidently and would measure the fit, not the function's
smoothness.

The model is put in eval mode while measuring, so every sample is processed on its own
(BatchNorm uses running statistics): the result cannot depend on how the evaluation set is
chunked. Per-sample Jacobians come from torch.func (vmap over jacrev), a chunk of samples at a
time, instead of a Python loop over samples.
"""

import torch
from torch.func import functional_call, jacrev, vmap


def input_jacobian_norms(model: torch.nn.Module, x: torch.Tensor, chunk_size: int = 256) -> torch.Tensor:
    """‖∂ model(x_i) / ∂ x_i‖_F for every row x_i of x: a tensor of shape (n,)."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be >= 1")
    was_training = model.training
    model.eval()
    try:
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def single(xi):  # one sample, without its batch dimension
            return functional_call(model, (params, buffers), (xi.unsqueeze(0),)).squeeze(0)

        per_sample = vmap(jacrev(single))
        norms = []
        for i in range(0, len(x), chunk_size):
            jac = per_sample(x[i:i + chunk_size])  # (chunk, *out_shape, *in_shape)
            norms.append(jac.flatten(1).norm(dim=1))
        return torch.cat(norms) if norms else x.new_zeros(0)
    finally:
        model.train(was_training)


def sensitivity(model: torch.nn.Module, x: torch.Tensor, chunk_size: int = 256) -> dict:
    """Mean, standard deviation and median of the per-sample Jacobian norms on x."""
    norms = input_jacobian_norms(model, x, chunk_size=chunk_size)
    return {
        "mean": norms.mean().item(),
        "std": norms.std().item() if len(norms) > 1 else 0.0,
        "median": norms.median().item(),
        "n": len(norms),
    }
