"""Code statistics that reveal collapse: when every sample gets the same assignment, the prototype
usage falls towards 1/K and the codes' entropy rises towards ln K, while the loss sits at ln K."""

import torch


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
