"""swav_loss against a direct, loop-based reading of Eq. 6, with Appendix A.1 codes."""

import math

import pytest
import torch
import torch.nn.functional as F

from swavlab.loss import swav_loss
from swavlab.sinkhorn import sinkhorn
from test_sinkhorn import appendix_a1, cosine_scores

BATCH, PROTOTYPES, N_CROPS = 16, 24, 5


def eq6_loop(
    scores: torch.Tensor,
    crops_for_assign: list[int],
    batch_size: int,
    temperature: float,
    codes_per_crop: list[torch.Tensor],
) -> torch.Tensor:
    """Eq. 6 as the paper states it, one crop pair at a time."""
    n_crops = scores.shape[0] // batch_size
    total = torch.zeros(())
    for crop, codes in zip(crops_for_assign, codes_per_crop, strict=True):
        crop_loss = torch.zeros(())
        for v in range(n_crops):
            if v == crop:
                continue
            predictions = scores[v * batch_size : (v + 1) * batch_size] / temperature
            crop_loss = crop_loss - torch.mean(torch.sum(codes * F.log_softmax(predictions, dim=1), dim=1))
        total = total + crop_loss / (n_crops - 1)
    return total / len(crops_for_assign)


def multi_crop_scores(seed: int) -> torch.Tensor:
    return cosine_scores(N_CROPS * BATCH, PROTOTYPES, seed=seed).requires_grad_(True)


@pytest.mark.parametrize("crops_for_assign", [[0, 1], [0], [1, 3, 4]])
def test_soft_loss_and_gradient_match_eq6(crops_for_assign: list[int]) -> None:
    scores = multi_crop_scores(seed=len(crops_for_assign))
    loss, codes = swav_loss(scores, crops_for_assign, BATCH, temperature=0.1, return_codes=True)

    reference_scores = scores.detach().clone().requires_grad_(True)
    reference_codes = [
        appendix_a1(reference_scores.detach()[c * BATCH : (c + 1) * BATCH], 0.05, 3)
        for c in crops_for_assign
    ]
    expected = eq6_loop(reference_scores, crops_for_assign, BATCH, 0.1, reference_codes)

    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    assert len(codes) == len(crops_for_assign)
    for got, want in zip(codes, reference_codes, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    loss.backward()
    expected.backward()
    assert scores.grad is not None and reference_scores.grad is not None
    torch.testing.assert_close(scores.grad, reference_scores.grad, rtol=1e-4, atol=1e-7)


def test_hard_assignment_uses_one_hot_codes() -> None:
    scores = multi_crop_scores(seed=7)
    loss, codes = swav_loss(scores, [0, 1], BATCH, assignment="hard", return_codes=True)
    one_hot = [F.one_hot(c.argmax(dim=1), PROTOTYPES).float() for c in codes]
    expected = eq6_loop(scores.detach(), [0, 1], BATCH, 0.1, one_hot)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    soft = swav_loss(scores, [0, 1], BATCH, assignment="soft")
    assert abs(loss.item() - soft.item()) > 1e-3


def test_queue_scores_go_in_front_and_only_the_batch_codes_are_kept() -> None:
    scores = multi_crop_scores(seed=9)
    queue_length = 32
    queue = [cosine_scores(queue_length, PROTOTYPES, seed=100), None]
    loss, codes = swav_loss(scores, [0, 1], BATCH, queue_scores=queue, return_codes=True)

    batch0 = scores.detach()[:BATCH]
    with_queue = sinkhorn(torch.cat((queue[0], batch0)))[queue_length:]
    torch.testing.assert_close(codes[0], with_queue, rtol=0, atol=1e-6)
    torch.testing.assert_close(codes[1], sinkhorn(scores.detach()[BATCH : 2 * BATCH]), rtol=0, atol=1e-6)
    # The queue changes the codes: the batch shares the prototypes with the queued samples.
    assert (codes[0] - sinkhorn(batch0)).abs().max().item() > 1e-3
    expected = eq6_loop(scores.detach(), [0, 1], BATCH, 0.1, codes)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)


def test_collapsed_scores_give_ln_k() -> None:
    # Every sample scores every prototype alike: the codes are uniform and the loss is ln K.
    scores = torch.full((N_CROPS * BATCH, 3000), 0.3)
    loss = swav_loss(scores, [0, 1], BATCH)
    assert loss.item() == pytest.approx(math.log(3000), abs=1e-4)


def test_half_precision_scores_give_an_fp32_loss() -> None:
    scores = multi_crop_scores(seed=4).detach()
    loss = swav_loss(scores.to(torch.bfloat16), [0, 1], BATCH)
    assert loss.dtype == torch.float32 and math.isfinite(loss.item())
    assert loss.item() == pytest.approx(swav_loss(scores, [0, 1], BATCH).item(), rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 7}, "batch_size"),
        ({"crops_for_assign": [0, 5]}, r"crops_for_assign\[1\]"),
        ({"crops_for_assign": []}, "crops_for_assign"),
        ({"queue_scores": [None]}, "queue_scores"),
        ({"queue_scores": [torch.zeros(8, 3), None]}, r"queue_scores\[0\]"),
        ({"assignment": "medium"}, "assignment"),
        ({"temperature": 0.0}, "temperature"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "scores": torch.zeros(N_CROPS * BATCH, PROTOTYPES),
        "crops_for_assign": [0, 1],
        "batch_size": BATCH,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        swav_loss(**arguments)  # type: ignore[arg-type]
