"""Sinkhorn codes against the paper's Appendix A.1 pseudo-code, plus the properties the loss relies on."""

import importlib
import math

import pytest
import torch
import torch.nn.functional as F

from swavlab.sinkhorn import sinkhorn


def appendix_a1(scores: torch.Tensor, epsilon: float, iterations: int) -> torch.Tensor:
    """The pseudo-code of Appendix A.1, written out literally: the oracle."""
    q = torch.exp(scores / epsilon).t()
    q /= torch.sum(q)
    n_prototypes, n_samples = q.shape
    for _ in range(iterations):
        q /= torch.sum(q, dim=1, keepdim=True)
        q /= n_prototypes
        q /= torch.sum(q, dim=0, keepdim=True)
        q /= n_samples
    q *= n_samples
    return q.t()


def cosine_scores(n_samples: int, n_prototypes: int, seed: int = 0, dim: int = 16) -> torch.Tensor:
    """Scores as SwAV makes them: normalised embeddings times normalised prototypes."""
    generator = torch.Generator().manual_seed(seed)
    embeddings = F.normalize(torch.randn(n_samples, dim, generator=generator), dim=1)
    prototypes = F.normalize(torch.randn(n_prototypes, dim, generator=generator), dim=1)
    return embeddings @ prototypes.t()


@pytest.mark.parametrize(
    ("n_samples", "n_prototypes", "epsilon", "iterations"),
    [(64, 30, 0.05, 3), (16, 100, 0.05, 3), (256, 40, 0.1, 10), (32, 8, 0.05, 1), (128, 300, 0.03, 30)],
)
def test_matches_appendix_a1_oracle(
    n_samples: int, n_prototypes: int, epsilon: float, iterations: int
) -> None:
    scores = cosine_scores(n_samples, n_prototypes, seed=n_samples + n_prototypes)
    expected = appendix_a1(scores, epsilon, iterations)
    codes = sinkhorn(scores, epsilon, iterations)
    assert codes.shape == (n_samples, n_prototypes)
    assert codes.dtype == torch.float32
    torch.testing.assert_close(codes, expected, rtol=0, atol=1e-5)


def test_rows_sum_to_one_and_prototypes_share_the_mass() -> None:
    n_samples, n_prototypes = 256, 32
    scores = cosine_scores(n_samples, n_prototypes, seed=3)
    fair_share = n_samples / n_prototypes

    def deviation(codes: torch.Tensor) -> float:
        return ((codes.sum(dim=0) - fair_share).abs().max() / fair_share).item()

    plain_softmax = torch.softmax(scores / 0.05, dim=1)
    few = sinkhorn(scores, 0.05, 3)
    # The spec allows up to 1000 iterations: the codes must not drift out of fp32's range.
    many = sinkhorn(scores, 0.05, 1000)
    for codes in (few, many):
        torch.testing.assert_close(codes.sum(dim=1), torch.ones(n_samples), rtol=0, atol=1e-5)
        assert bool((codes >= 0).all())
    # Three iterations already spread the mass far more evenly than a per-sample softmax; many converge.
    assert deviation(few) < 0.5 * deviation(plain_softmax)
    assert deviation(many) < 1e-4


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input_is_computed_in_fp32(dtype: torch.dtype) -> None:
    scores = cosine_scores(64, 30, seed=5).to(dtype)
    # The largest score is close to 1 and e^(1 / 0.05) = 4.9e8 is beyond fp16's range: a computation in
    # the input's dtype would overflow.
    assert scores.max().item() > 0.6 and math.exp(0.6 / 0.05) > torch.finfo(torch.float16).max
    codes = sinkhorn(scores)
    assert codes.dtype == torch.float32
    assert bool(torch.isfinite(codes).all())
    torch.testing.assert_close(codes, appendix_a1(scores.float(), 0.05, 3), rtol=0, atol=1e-5)


def test_cpu_autocast_does_not_lower_the_precision() -> None:
    scores = cosine_scores(64, 30, seed=6)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        codes = sinkhorn(scores)
    assert codes.dtype == torch.float32
    torch.testing.assert_close(codes, appendix_a1(scores, 0.05, 3), rtol=0, atol=1e-5)


def test_large_scores_stay_finite_where_the_pseudo_code_overflows() -> None:
    # Scores in [3, 5]: exp(5 / 0.05) = e^100 overflows fp32 but not fp64, so the fp64 pseudo-code is the
    # reference. A constant offset does not change the codes mathematically.
    scores = cosine_scores(48, 12, seed=7) + 4.0
    assert not bool(torch.isfinite(appendix_a1(scores, 0.05, 3)).all())
    codes = sinkhorn(scores)
    expected = appendix_a1(scores.double(), 0.05, 3).float()
    torch.testing.assert_close(codes, expected, rtol=0, atol=1e-5)


def test_a_prototype_far_below_the_others_keeps_its_share() -> None:
    # Prototype 0 scores about -0.95 + 4 for every sample while the best scores reach about 5: with
    # eps = 0.015 its entries are ~e^-130 below the global maximum, which underflows fp32 to 0. Shifting
    # each prototype by its own largest value keeps it representable; the fp64 pseudo-code is the reference.
    scores = cosine_scores(48, 12, seed=9)
    scores[:, 0] = -0.95 + 0.01 * torch.linspace(-1, 1, 48)
    scores += 4.0
    codes = sinkhorn(scores, 0.015, 3)
    expected = appendix_a1(scores.double(), 0.015, 3).float()
    torch.testing.assert_close(codes, expected, rtol=0, atol=1e-5)
    assert codes[:, 0].sum().item() > 0.5 * 48 / 12


@pytest.mark.parametrize("epsilon", [0.01, 0.005])
def test_small_epsilon_gives_finite_codes_equal_to_fp64(epsilon: float) -> None:
    # Cosines span 2, so exp(score / eps) spans up to e^(2 / eps) = e^200..e^400, beyond fp32. Eight
    # outlier samples far from every prototype: shifting only by each prototype's max leaves their rows
    # all zero in fp32 (NaN codes). fp64 holds these values, so the fp64 pseudo-code is the reference.
    scores = cosine_scores(256, 300, seed=12)
    scores[:8] = 0.2 * scores[:8] - 0.8
    one_sided = torch.exp((scores - scores.amax(dim=0)) / epsilon)
    assert bool((one_sided.sum(dim=1) == 0).any())
    codes = sinkhorn(scores, epsilon, 3)
    assert bool(torch.isfinite(codes).all())
    torch.testing.assert_close(codes.sum(dim=1), torch.ones(256), rtol=0, atol=1e-5)
    torch.testing.assert_close(codes, appendix_a1(scores.double(), epsilon, 3).float(), rtol=0, atol=1e-5)


def test_epsilon_beyond_fp64_still_gives_codes() -> None:
    scores = cosine_scores(256, 300, seed=13)
    codes = sinkhorn(scores, 0.001, 10)
    assert bool(torch.isfinite(codes).all()) and bool((codes >= 0).all())
    torch.testing.assert_close(codes.sum(dim=1), torch.ones(256), rtol=0, atol=1e-5)


def test_a_matrix_of_several_cpu_row_blocks_matches_the_oracle() -> None:
    # 1200 x 1000 fp32 is 4.8 MB: three row blocks on the CPU. Outlier samples sit in the last block
    # only, so one block takes the lifted path and the others do not.
    scores = cosine_scores(1200, 1000, seed=14)
    scores[-5:] = 0.2 * scores[-5:] - 0.8
    for epsilon in (0.05, 0.01):
        codes = sinkhorn(scores, epsilon, 3)
        torch.testing.assert_close(codes, appendix_a1(scores.double(), epsilon, 3).float(), rtol=0, atol=1e-5)


def test_one_shift_and_per_prototype_shift_give_the_same_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cosines at eps 0.05 span at most 40 eps: the matrix is shifted by its one largest score. Forcing
    # the path that small epsilons take (per-prototype shift, row check) must not change the codes.
    module = importlib.import_module("swavlab.sinkhorn")
    scores = cosine_scores(700, 900, seed=15)
    one_shift = sinkhorn(scores, 0.05, 3)
    monkeypatch.setattr(module, "_ONE_SHIFT_RANGE", 0.0)
    per_prototype = sinkhorn(scores, 0.05, 3)
    torch.testing.assert_close(one_shift, per_prototype, rtol=0, atol=1e-6)


def test_no_gradient_and_input_untouched() -> None:
    scores = cosine_scores(32, 10, seed=8).requires_grad_(True)
    before = scores.detach().clone()
    codes = sinkhorn(scores)
    assert not codes.requires_grad
    assert torch.equal(scores.detach(), before)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"scores": torch.zeros(4)}, "scores"),
        ({"scores": torch.zeros(4, 3), "epsilon": 0.0}, "epsilon"),
        ({"scores": torch.zeros(4, 3), "epsilon": float("nan")}, "epsilon"),
        ({"scores": torch.zeros(4, 3), "iterations": 0}, "iterations"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        sinkhorn(**kwargs)  # type: ignore[arg-type]
