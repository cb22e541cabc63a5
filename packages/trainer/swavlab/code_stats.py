"""Code statistics that reveal collapse: when every sample gets the same assignment, the prototype
usage falls towards 1/K and the codes' entropy rises towards ln K, while the loss sits at ln K; when
the network maps every image to the same point, the embeddings' spread falls to 0."""

import torch


@torch.no_grad()
def embedding_spread(embeddings: torch.Tensor) -> float:
    """sqrt(d) x the mean over dimensions of the batch's standard deviation of the L2-normalised embeddings
    [B, d]: about 1 for directions spread evenly over the sphere, 0 when every sample maps to one point."""
    if embeddings.dim() != 2 or embeddings.shape[0] < 2:
        raise ValueError(f"embeddings: expected [batch >= 2, dim], got shape {tuple(embeddings.shape)}")
    unit = torch.nn.functional.normalize(embeddings.float(), dim=1)
    return float(unit.std(dim=0).mean().item() * unit.shape[1] ** 0.5)


@torch.no_grad()
def code_statistics(codes: torch.Tensor, scores: torch.Tensor | None = None) -> dict[str, float]:
    """`prototype_usage` and `code_entropy` of a batch of codes [B, K].

    `prototype_usage` is the fraction of the K prototypes that are the arg-max of at least one sample:
    of `scores` [B, K] when given (what the network itself predicts), else of the codes.
    `code_entropy` is the mean over samples of -sum_k q log q, in nats (0 for one-hot, ln K for uniform).
    """
    if codes.dim() != 2:
        raise ValueError(f"codes: expected [batch, prototypes], got shape {tuple(codes.shape)}")
    if scores is not None and scores.shape != codes.shape:
        raise ValueError(f"scores: expected shape {tuple(codes.shape)} like codes, got {tuple(scores.shape)}")
    codes = codes.float()
    winners = (scores if scores is not None else codes).argmax(dim=1)
    usage = torch.unique(winners).numel() / codes.shape[1]
    entropy = -torch.special.xlogy(codes, codes).sum(dim=1).mean()
    return {"prototype_usage": float(usage), "code_entropy": float(entropy.item())}
