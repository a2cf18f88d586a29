"""Random training labels (Zhang et al. 2017, "Understanding deep learning requires rethinking
generalization"): can a network memorize labels that carry no information?

Every training label is replaced by a class drawn uniformly at random from a seeded generator;
the test labels stay true, so test accuracy measures what the memorized model learned about the
real task (nothing: it should sit at chance).
"""

import dataclasses

import torch


def random_labels(n: int, n_classes: int, seed: int = 0, device=None) -> torch.Tensor:
    """n labels drawn i.i.d. uniformly from {0, …, n_classes-1}.

    Drawn on the CPU from a private generator, then moved: the labels depend on the seed
    only, not on the device or on the global RNG state.
    """
    if n_classes < 2:
        raise ValueError(f"n_classes={n_classes} must be >= 2 for random labels")
    if n < 0:
        raise ValueError(f"n={n} must be >= 0")
    generator = torch.Generator().manual_seed(int(seed))
    labels = torch.randint(0, n_classes, (n,), generator=generator, dtype=torch.int64)
    return labels.to(device) if device is not None else labels


def with_random_labels(data, seed: int = 0):
    """A copy of a classification dataset whose training labels are random; everything else
    (inputs, test set, class count) is the same object as in `data`."""
    if getattr(data, "kind", None) != "classification":
        raise ValueError(f"random labels need a classification dataset, got kind={getattr(data, 'kind', None)!r}")
    y = random_labels(len(data.y_train), data.n_classes, seed=seed, device=data.y_train.device)
    return dataclasses.replace(data, name=f"{data.name} (random train labels, seed {seed})", y_train=y)


def agreement(y_random: torch.Tensor, y_true: torch.Tensor) -> float:
    """Fraction of random labels that happen to equal the true ones (≈ 1/n_classes)."""
    return (y_random == y_true).float().mean().item()
