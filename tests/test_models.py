import pytest
import torch

from hwlib import models


def test_count_params_matches_hand_count_mlp():
    # 1→3→4→1: (1·3+3) + (3·4+4) + (4·1+1) = 6 + 16 + 5
    assert models.count_params(models.mlp([3, 4], in_dim=1, out_dim=1)) == 27


def test_count_params_matches_hand_count_cnn():
    # conv 1→2 (3×3): 2·9+2 = 20; after one 2×2 pool an 8×8 map is 4×4, so linear 2·16→10: 320+10
    net = models.cnn((1, 8, 8), 10, [2])
    assert models.count_params(net) == 20 + 330
    # with BatchNorm the conv has no bias, BatchNorm adds a weight and a bias per channel (buffers do not count)
    assert models.count_params(models.cnn((1, 8, 8), 10, [2], batchnorm=True)) == 18 + 4 + 330


def test_count_params_ignores_frozen():
    net = models.mlp([3], 1, 1)
    net[1].weight.requires_grad_(False)
    assert models.count_params(net) == 10 - 3


@pytest.mark.parametrize("budget", [140, 570, 2000, 20000])
def test_mlp_budget_solver_two_percent_rule(budget):
    counts = [models.count_params(models.mlp_for_budget(budget, d)) for d in range(1, 8)]
    assert all(abs(c - budget) <= 0.01 * budget for c in counts), counts
    assert max(counts) <= 1.02 * min(counts)


def test_mlp_solver_prefers_uniform_widths():
    widths = models.solve_mlp_widths(570, 2)
    assert widths == [22, 22]
    assert len(models.solve_mlp_widths(570, 5)) == 5


def test_mlp_budget_too_small_for_depth_is_a_clear_error():
    with pytest.raises(ValueError, match="budget=10 is too small for depth=6"):
        models.solve_mlp_widths(10, 6)


@pytest.mark.parametrize("shape,budget", [((1, 8, 8), 20000), ((1, 28, 28), 50000), ((3, 32, 32), 100000)])
def test_cnn_family_counts_within_two_percent(shape, budget):
    family = models.cnn_family(budget, [1, 2, 4], shape, 10)
    counts = [models.count_params(m) for m in family]
    assert max(counts) <= 1.02 * min(counts), counts
    out = family[-1](torch.zeros(2, *shape))
    assert out.shape == (2, 10)


def test_describe_reads_the_model():
    info = models.describe(models.mlp([5, 7], 1, 1))
    assert info["widths"] == [5, 7] and info["hidden_layers"] == 2
    assert info["params"] == models.count_params(models.mlp([5, 7], 1, 1))
    assert info["structure"] == "Linear(1→5) · Linear(5→7) · Linear(7→1)"


@pytest.mark.parametrize("channels,batchnorm,structure", [
    # a one-block net is pooled after its only block, a deeper one after every second block
    ([17], True, "Conv3×3(1→17)+BN+ReLU · MaxPool2×2 · Linear(272→10)"),
    ([10, 11], False, "Conv3×3(1→10)+ReLU · Conv3×3(10→11)+ReLU · MaxPool2×2 · Linear(176→10)"),
    ([4, 4, 4, 5], True, "Conv3×3(1→4)+BN+ReLU · Conv3×3(4→4)+BN+ReLU · MaxPool2×2 · Conv3×3(4→4)+BN+ReLU · "
                         "Conv3×3(4→5)+BN+ReLU · MaxPool2×2 · Linear(20→10)"),
])
def test_describe_names_every_layer_of_a_cnn_as_it_is_built(channels, batchnorm, structure):
    net = models.cnn((1, 8, 8), 10, channels, batchnorm)
    assert models.describe(net)["structure"] == structure
    built = [type(m).__name__ for m in net]  # the same layers, in the same order, as the model holds
    named = [p for part in structure.split(" · ") for p in part.split("+")]
    kinds = {"Conv": "Conv2d", "BN": "BatchNorm2d", "ReLU": "ReLU", "MaxPool": "MaxPool2d", "Linear": "Linear"}
    assert [next(v for k, v in kinds.items() if p.startswith(k)) for p in named] == [b for b in built if b != "Flatten"]


@pytest.mark.parametrize("batchnorm", [False, True])
def test_cnn_param_count_equals_the_built_models_count(batchnorm):
    # the width solvers count without building; the count must be the built model's own
    for shape in [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 3, 3)]:
        for channels in [[1], [5], [4, 4], [3, 7, 2], [8, 8, 8, 16], [2] * 6]:
            assert models.cnn_param_count(shape, 10, channels, batchnorm) == \
                models.count_params(models.cnn(shape, 10, channels, batchnorm)), (shape, channels)


def test_cnn_weights_are_channels_last_and_compute_the_same_function():
    torch.manual_seed(0)
    net = models.cnn((1, 8, 8), 10, [4, 6], batchnorm=True)
    conv = next(m for m in net if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    plain = models.cnn((1, 8, 8), 10, [4, 6], batchnorm=True).to(memory_format=torch.contiguous_format)
    plain.load_state_dict(net.state_dict())
    x = torch.randn(16, 1, 8, 8)
    torch.testing.assert_close(net(x), plain(x), rtol=1e-4, atol=1e-5)
