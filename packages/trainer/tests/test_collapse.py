"""Collapse detector rules."""

from __future__ import annotations

import math

import pytest

from swavlab.collapse import CollapseDetector


def test_loss_at_ln_k_for_patience_points_warns_once() -> None:
    k = 100
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    collapsed = math.log(k) * 0.995
    assert detector.update(10, collapsed, 0.5) is None
    assert detector.update(20, collapsed, 0.5) is None
    warning = detector.update(30, collapsed, 0.5)
    assert warning is not None and warning.step == 30
    assert "ln K" in warning.message and "K = 100" in warning.message
    assert any("freeze_prototypes_iters" in a for a in warning.advice)
    assert any("epsilon" in a for a in warning.advice)
    assert any("queue" in a for a in warning.advice)
    assert any("10x" in a for a in warning.advice)
    assert detector.update(40, collapsed, 0.5) is None  # only once


def test_low_prototype_usage_alone_counts() -> None:
    detector = CollapseDetector(prototypes=50, unfreeze_step=0, patience=2)
    assert detector.update(1, 1.0, 2 / 50) is None
    assert detector.update(2, 1.0, 1 / 50) is not None


def test_a_healthy_point_resets_the_streak() -> None:
    k = 30
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=2)
    assert detector.update(1, math.log(k), 0.5) is None
    assert detector.update(2, 1.0, 0.5) is None
    assert detector.update(3, math.log(k), 0.5) is None
    assert detector.update(4, math.log(k), 0.5) is not None


def test_healthy_loss_is_not_flagged() -> None:
    k = 3000
    detector = CollapseDetector(prototypes=k, unfreeze_step=0, patience=1)
    assert detector.update(1, math.log(k) * 0.98, 0.02) is None


def test_points_while_frozen_are_ignored() -> None:
    k = 10
    detector = CollapseDetector(prototypes=k, unfreeze_step=100, patience=1)
    assert detector.update(50, math.log(k), 0.1) is None
    assert detector.streak == 0
    assert detector.update(100, math.log(k), 0.1) is not None


def test_state_round_trip() -> None:
    k = 10
    first = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    first.update(1, math.log(k), 0.1)
    first.update(2, math.log(k), 0.1)
    second = CollapseDetector(prototypes=k, unfreeze_step=0, patience=3)
    second.load_state_dict(first.state_dict())
    assert second.update(3, math.log(k), 0.1) is not None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        CollapseDetector(prototypes=1, unfreeze_step=0)
    with pytest.raises(ValueError):
        CollapseDetector(prototypes=10, unfreeze_step=0, patience=0)
