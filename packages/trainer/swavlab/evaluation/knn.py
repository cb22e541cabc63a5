"""Weighted k-NN classification of frozen features, as InstDisc (Wu et al., CVPR 2018) and DINO
(Caron et al., ICCV 2021) evaluate: cosine similarity on L2-normalised features, each of the k nearest
training samples votes for its class with weight exp(sim / T)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .accuracy import check_labels

# Bounds the [chunk, n_train] similarity matrix of k-NN to ~64 MiB of float32.
_KNN_CHUNK_ELEMENTS = 1 << 24


def knn_top1(
    train_f: Tensor,
    train_y: Tensor,
    test_f: Tensor,
    test_y: Tensor,
    ks: Sequence[int],
    temperature: float,
    num_classes: int,
) -> dict[int, float]:
    """Weighted k-NN top-1 accuracy in [0, 1] for each k (features L2-normalised).

    Each of the k most similar training samples votes for its label with weight exp(sim / T);
    the class with the largest total wins (ties: lowest class id). k larger than the training set
    uses the whole training set. The test set is processed in chunks so memory stays bounded.
    """
    if not ks:
        raise ValueError("knn_top1: ks must not be empty")
    if train_f.shape[0] == 0 or test_f.shape[0] == 0:
        raise ValueError("knn_top1: needs at least one training and one test sample")
    check_labels(train_y, num_classes, "train labels")
    check_labels(test_y, num_classes, "test labels")
    n_train = train_f.shape[0]
    k_max = min(max(ks), n_train)
    chunk = max(1, _KNN_CHUNK_ELEMENTS // n_train)
    train_y = train_y.to(train_f.device)
    correct = dict.fromkeys(ks, 0)
    for start in range(0, test_f.shape[0], chunk):
        similarity = test_f[start : start + chunk] @ train_f.T
        top_sim, top_idx = similarity.topk(k_max, dim=1)  # sorted, most similar first
        neighbour_y = train_y[top_idx]
        weights = (top_sim / temperature).exp()
        truth = test_y[start : start + chunk].to(train_f.device)
        for k in ks:
            kk = min(k, n_train)
            votes = torch.zeros(truth.shape[0], num_classes, device=train_f.device, dtype=weights.dtype)
            votes.scatter_add_(1, neighbour_y[:, :kk], weights[:, :kk])
            correct[k] += int((votes.argmax(dim=1) == truth).sum())
    return {k: correct[k] / test_f.shape[0] for k in ks}
