"""Collapse detector: its rules, and its calibration on the recorded signals of labelled runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from swavlab.collapse import CollapseDetector

FIXTURES = Path(__file__).parent / "fixtures" / "collapse"
SPREAD = 0.6  # a healthy embedding spread


def test_uniform_codes_at_ln_k_warn_only_when_an_evaluation_finds_nothing_learned() -> None:
    k = 100
    uniform = math.log(k) * 0.995
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    assert all(detector.update(s, uniform, 0.5, uniform, SPREAD) is None for s in (10, 20, 30, 40))
    assert detector.evaluated(40, knn=0.55, random_init=0.37) is None  # healthy-paper-epsilon's case
    warning = detector.evaluated(80, knn=0.24, random_init=0.28)
    assert warning is not None and warning.step == 80
    assert "codes were uniform" in warning.message and "not above the same backbone at random init" in warning.message
    advice = " ".join(warning.advice)
    assert all(f in advice for f in ("optim.base_lr", "swav.epsilon", "swav.prototypes", "swav.freeze_prototypes_iters"))
    assert detector.evaluated(90, knn=0.1, random_init=0.28) is None  # only once
    # Not uniform for long enough: an evaluation below random init alone is the learning check's, not collapse.
    short = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    short.update(1, uniform, 0.5, uniform, SPREAD)
    short.update(2, 1.0, 0.5, 1.0, SPREAD)
    assert short.evaluated(2, knn=0.1, random_init=0.3) is None


def test_a_loss_at_ln_k_with_sharp_codes_is_not_collapse() -> None:
    """The demo's healthy runs: loss at ln K while the codes are far from uniform and k-NN rises."""
    k = 300
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=1)
    assert all(detector.update(s, math.log(k), 21 / k, 2.0, SPREAD) is None for s in range(1, 20))


def test_uniform_codes_alone_are_not_collapse() -> None:
    """At epsilon 0.05 with fewer samples than prototypes healthy codes are uniform and the loss at ln K."""
    k = 100
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=1)
    assert all(detector.update(s, math.log(k), 0.3, math.log(k), SPREAD) is None for s in range(1, 30))


def test_one_prototype_scales_with_the_batch_and_k_and_needs_an_evaluation() -> None:
    small = CollapseDetector(prototypes=50, unfreeze_step=0, batch_size=64, patience=1)
    assert small.max_used == 1
    assert small.update(1, 1.0, 2 / 50, 1.0, SPREAD) is None and small.suspected is None
    assert small.update(2, 1.0, 1 / 50, 1.0, SPREAD) is None and small.suspected is not None
    # Hard codes from one iteration sat on 1-3 prototypes while k-NN gained 20 points: not collapse.
    assert small.evaluated(2, knn=0.55, random_init=0.36) is None
    warning = small.evaluated(3, knn=0.30, random_init=0.36)
    assert warning is not None and "fell on 1 of 50 prototypes" in warning.message
    two = CollapseDetector(prototypes=2, unfreeze_step=0, patience=1)
    two.update(1, 1.0, 2 / 2, 1.0, SPREAD)
    assert two.suspected is None  # K = 2 used in full is not collapse
    large = CollapseDetector(prototypes=3000, unfreeze_step=0, batch_size=256, patience=1)
    assert large.max_used == pytest.approx(256 / 50)
    large.update(1, 1.0, 6 / 3000, 1.0, SPREAD)
    assert large.suspected is None
    large.update(2, 1.0, 5 / 3000, 1.0, SPREAD)
    assert large.suspected is not None


def test_embeddings_on_one_point_warn_on_their_own() -> None:
    detector = CollapseDetector(prototypes=30, unfreeze_step=0, patience=2)
    assert detector.update(1, 1.0, 0.5, 1.0, 0.01) is None
    warning = detector.update(2, 1.0, 0.5, 1.0, 0.01)
    assert warning is not None and "same embedding" in warning.message
    # The fixed-prototype 2-D embedding of the trainer test spreads about 0.06: not one point.
    assert CollapseDetector(prototypes=30, unfreeze_step=0, patience=1).update(1, 1.0, 0.5, 1.0, 0.06) is None


def test_a_healthy_point_resets_the_streak_and_frozen_points_are_ignored() -> None:
    k = 30
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=2)
    assert detector.update(1, 1.0, 0.5, 1.0, 0.01) is None
    assert detector.update(2, 1.0, 0.5, 1.0, SPREAD) is None
    assert detector.update(3, 1.0, 0.5, 1.0, 0.01) is None
    assert detector.update(4, 1.0, 0.5, 1.0, 0.01) is not None
    frozen = CollapseDetector(prototypes=k, unfreeze_step=100, patience=1)
    assert frozen.update(50, 1.0, 0.5, 1.0, 0.01) is None and frozen.streak == 0
    assert frozen.update(100, 1.0, 0.5, 1.0, 0.01) is not None


def test_state_round_trip() -> None:
    k = 10
    u = math.log(k)
    first = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    first.update(1, u, 0.5, u, 0.01)
    first.update(2, u, 0.5, u, 0.01)
    second = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    second.load_state_dict(first.state_dict())
    assert second.suspect_streak == 2 and second.suspected is None
    assert second.update(3, u, 0.5, u, 0.01) is not None
    older = CollapseDetector(prototypes=k, unfreeze_step=0)
    older.load_state_dict({"streak": 1, "warned": False})  # a checkpoint from before the suspected symptoms
    assert older.suspect_streak == 0 and older.suspected is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CollapseDetector(prototypes=1, unfreeze_step=0)
    with pytest.raises(ValueError):
        CollapseDetector(prototypes=10, unfreeze_step=0, patience=0)
    with pytest.raises(ValueError):
        CollapseDetector(prototypes=10, unfreeze_step=0, batch_size=0)


def fixtures() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(FIXTURES.glob("*.json"))]


def flagged(run: dict[str, Any]) -> bool:
    detector = CollapseDetector(
        run["prototypes"], unfreeze_step=run["freeze_prototypes_iters"], batch_size=run["batch_size"]
    )
    for point in run["points"]:
        signals = [point[k] for k in ("loss", "prototype_usage", "code_entropy", "embedding_spread")]
        if any(value is None for value in signals):  # a diverged point: the run fails as diverged instead
            continue
        if detector.update(point["step"], *signals) is not None:
            return True
    # The run's evaluation at its end, as the trainer hands it over.
    last = run["points"][-1]["step"]
    return detector.evaluated(last, run["knn_top1@20"], run["random_init_knn_top1@20"]) is not None


def test_the_labelled_set_has_healthy_and_collapsed_runs() -> None:
    labels = [run["label"] for run in fixtures()]
    assert labels.count("healthy") >= 4 and labels.count("collapsed") >= 1, labels


@pytest.mark.parametrize("run", fixtures(), ids=lambda run: run["name"])
def test_the_detector_flags_exactly_the_collapsed_runs(run: dict[str, Any]) -> None:
    """Labels come from k-NN against random init, which the detector never sees."""
    assert flagged(run) == (run["label"] == "collapsed")
