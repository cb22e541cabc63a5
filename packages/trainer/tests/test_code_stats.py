"""Prototype usage and code entropy, the collapse signals."""

import math

import pytest
import torch
import torch.nn.functional as F

from swavlab.code_stats import code_statistics, embedding_spread


def test_one_hot_codes_have_zero_entropy_and_count_their_prototypes() -> None:
    codes = F.one_hot(torch.tensor([0, 3, 3, 7, 0, 7]), num_classes=10).float()
    stats = code_statistics(codes)
    assert stats == {"prototype_usage": pytest.approx(0.3), "code_entropy": pytest.approx(0.0)}


def test_uniform_codes_have_entropy_ln_k() -> None:
    codes = torch.full((5, 40), 1 / 40)
    assert code_statistics(codes)["code_entropy"] == pytest.approx(math.log(40), rel=1e-6)


def test_usage_follows_the_scores_when_given() -> None:
    codes = torch.softmax(torch.randn(8, 6, generator=torch.Generator().manual_seed(0)), dim=1)
    scores = torch.zeros(8, 6)
    scores[:, 2] = 1.0
    stats = code_statistics(codes, scores)
    assert stats["prototype_usage"] == pytest.approx(1 / 6)
    expected_entropy = float(-(codes * codes.log()).sum(dim=1).mean())
    assert stats["code_entropy"] == pytest.approx(expected_entropy, rel=1e-5)


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="codes"):
        code_statistics(torch.zeros(4))
    with pytest.raises(ValueError, match="scores"):
        code_statistics(torch.zeros(4, 3), torch.zeros(4, 2))


def test_embedding_spread_is_one_when_spread_and_zero_when_collapsed() -> None:
    torch.manual_seed(0)
    spread = embedding_spread(torch.randn(4096, 64))
    assert spread == pytest.approx(1.0, abs=0.02)
    # The same direction at any length is one point on the sphere.
    point = torch.randn(1, 64)
    assert embedding_spread(point * (torch.rand(32, 1) + 0.5)) == pytest.approx(0.0, abs=1e-5)
    # Two clusters: between the two.
    two = torch.cat([point.repeat(16, 1), -point.repeat(16, 1)])
    assert 0.0 < embedding_spread(two) < 1.5
    with pytest.raises(ValueError, match="batch >= 2"):
        embedding_spread(torch.zeros(1, 8))
