"""FeatureQueue: FIFO order, fill level, scores against the prototypes, checkpoint round trip."""

import pytest
import torch
from torch import nn

from swavlab.feature_queue import FeatureQueue


def batch(values: list[float], feat_dim: int = 3) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1).repeat(1, feat_dim)


def test_push_keeps_the_newest_first_and_drops_the_oldest() -> None:
    queue = FeatureQueue(n_crops=2, length=4, feat_dim=3)
    assert (queue.length, queue.filled, queue.is_full) == (4, 0, False)
    queue.push([batch([1, 2]), batch([-1, -2])])
    assert (queue.filled, queue.is_full) == (2, False)
    queue.push([batch([3, 4]), batch([-3, -4])])
    assert queue.is_full
    queue.push([batch([5, 6]), batch([-5, -6])])
    assert queue.filled == 4
    stored = queue.state_dict()["embeddings"]
    torch.testing.assert_close(stored[0], batch([5, 6, 3, 4]))
    torch.testing.assert_close(stored[1], batch([-5, -6, -3, -4]))


def test_scores_use_the_current_prototypes_without_gradient() -> None:
    queue = FeatureQueue(n_crops=1, length=4, feat_dim=3)
    embeddings = torch.randn(4, 3, requires_grad=True)
    queue.push([embeddings])
    prototypes = nn.Linear(3, 5, bias=False)
    (scores,) = queue.scores(prototypes)
    assert scores.shape == (4, 5)
    assert not scores.requires_grad
    torch.testing.assert_close(scores, embeddings.detach() @ prototypes.weight.detach().t())
    with torch.no_grad():
        prototypes.weight.mul_(2.0)
    torch.testing.assert_close(queue.scores(prototypes)[0], 2.0 * scores)


def test_scores_of_a_partial_queue_are_refused() -> None:
    queue = FeatureQueue(n_crops=1, length=4, feat_dim=3)
    queue.push([batch([1, 2])])
    with pytest.raises(RuntimeError, match="2 of 4"):
        queue.scores(nn.Linear(3, 5, bias=False))


def test_state_dict_round_trip() -> None:
    queue = FeatureQueue(n_crops=2, length=6, feat_dim=4)
    queue.push([torch.randn(4, 4), torch.randn(4, 4)])
    restored = FeatureQueue(n_crops=2, length=6, feat_dim=4)
    restored.load_state_dict(queue.state_dict())
    assert restored.filled == 4
    torch.testing.assert_close(restored.state_dict()["embeddings"], queue.state_dict()["embeddings"])
    with pytest.raises(ValueError, match="embeddings of shape"):
        FeatureQueue(n_crops=2, length=8, feat_dim=4).load_state_dict(queue.state_dict())


@pytest.mark.parametrize(
    ("embeddings", "message"),
    [([torch.zeros(2, 3)], "expected 2 tensors"), ([torch.zeros(2, 3), torch.zeros(2, 4)], r"crop\[1\]")],
)
def test_push_rejects_mismatched_embeddings(embeddings: list[torch.Tensor], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureQueue(n_crops=2, length=4, feat_dim=3).push(embeddings)


def test_bad_sizes_are_named() -> None:
    with pytest.raises(ValueError, match="queue_length"):
        FeatureQueue(n_crops=2, length=0, feat_dim=3)
