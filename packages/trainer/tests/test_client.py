"""swavlab.client against a real service: `swavlab up` (the built CLI) started by the tests on a free port, with a
temporary SWAVLAB_HOME, the embedded database and its own redis-server. A tiny grid is submitted, waited for and
read back as dicts and DataFrames; downloads are checked against the stored sha256; errors carry the problem."""

from __future__ import annotations

import hashlib
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas
import pytest
from conftest import free_port

from swavlab.client import (
    BadRequest,
    Client,
    Conflict,
    NotFound,
    Unauthorized,
    Unreachable,
    WaitTimeout,
    flatten,
)
from swavlab.local_service import local_service


REPO = Path(__file__).resolve().parents[3]
CLI_BIN = REPO / "apps/cli/bin/swavlab.mjs"
CLI_DIST = REPO / "apps/cli/dist/main.js"
ADMIN_TOKEN = "client-test-admin-token-0123456789"
READ_TOKEN = "client-test-read-token-0123456789"
START_TIMEOUT_S = 120

TINY_BASE: dict[str, Any] = {
    "data": {"source": "synthetic", "num_images": 96, "num_classes": 4, "image_size": 16},
    "model": {"arch": "tiny", "small_stem": True, "hidden_mlp": 32, "feat_dim": 16},
    "swav": {"crops": "2x16", "freeze_prototypes_iters": 0},
    "optim": {"optimizer": "sgd", "base_lr": 0.1, "final_lr": 0.001, "warmup_epochs": 0, "batch_size": 16, "epochs": 3},
    "runtime": {"device": "cpu", "workers": 0, "threads": 1},
    "checkpoint": {"every_epochs": 1, "keep_last": 1},
    "eval": {"knn": {"k": [5]}, "linear": None},
}
GRID: dict[str, Any] = {
    "name": "client-test",
    "base": TINY_BASE,
    "axes": {"swav.prototypes": [6, 12]},
    "seeds": [1, 2],
    "metric": {"name": "knn_top1@5", "goal": "max"},
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`swavlab up` on a free port; yields its URL and stops it (SIGTERM) afterwards."""
    if not CLI_DIST.exists():
        subprocess.run(["npx", "tsc", "-b", "apps/cli"], cwd=REPO, check=True)
    env = {
        "PYTHON_BIN": "/usr/bin/python3",
        "SWAVLAB_LOG_LEVEL": "warn",
        "SWAVLAB_API_TOKENS": f"{ADMIN_TOKEN},read:{READ_TOKEN}",
        "SWAVLAB_SLOTS": "1",
    }
    with local_service(CLI_BIN, tmp_path_factory.mktemp("swavlab-home"), env, START_TIMEOUT_S) as url:
        yield url


@pytest.fixture(scope="module")
def client(service: str) -> Client:
    return Client(service, ADMIN_TOKEN)


@pytest.fixture(scope="module")
def finished_grid(client: Client) -> dict[str, Any]:
    """The tiny grid submitted and waited for (4 runs of 3 epochs of 4 steps, each step a log point)."""
    created = client.submit_grid(GRID)
    out = io.StringIO()
    grid = client.wait_grid(created["id"], progress=out, poll=0.5, timeout=600)
    return {"grid": grid, "progress": out.getvalue()}


def test_url_and_token_come_from_the_cli_environment(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAVLAB_URL", service + "/")
    monkeypatch.setenv("SWAVLAB_TOKEN", READ_TOKEN)
    client = Client()
    assert client.url == service
    assert client.token == READ_TOKEN
    monkeypatch.delenv("SWAVLAB_URL")
    assert Client().url == "http://127.0.0.1:8080"
    with pytest.raises(ValueError, match="url: expected an http"):
        Client("ftp://example")


def test_dry_run_lists_the_cells_without_storing(client: Client) -> None:
    preview = client.submit_grid(GRID, dry_run=True)
    assert len(preview["cells"]) == 4
    assert {(c["axis_values"]["swav.prototypes"], c["seed"]) for c in preview["cells"]} == {
        (6, 1),
        (6, 2),
        (12, 1),
        (12, 2),
    }


def test_a_tiny_grid_is_waited_for_and_its_results_read(client: Client, finished_grid: dict[str, Any]) -> None:
    grid = finished_grid["grid"]
    assert grid["status_counts"]["succeeded"] == 4, grid["status_counts"]
    lines = finished_grid["progress"].strip().splitlines()
    assert lines[-1].startswith("[" + "#" * 30 + "]") and "4/4 finished (4 succeeded)" in lines[-1]

    results = client.results(grid["id"])
    assert results["metric"] == "knn_top1@5" and results["group_by"] == ["swav.prototypes"]
    assert [(g["key"]["swav.prototypes"], g["n"]) for g in results["groups"]] == [(6, 2), (12, 2)]
    assert sum(g["best"] for g in results["groups"]) == 1

    frame = client.results_frame(grid["id"])
    assert list(frame["swav.prototypes"]) == [6, 12]
    assert set(frame["metric"]) == {"knn_top1@5"}
    for row, group in zip(frame.to_dict("records"), results["groups"], strict=True):
        assert row["mean"] == pytest.approx(group["mean"])
        assert row["ci95_low"] == pytest.approx(group["ci95"]["low"])
        assert row["best"] == group["best"]

    cells = client.cells_frame(grid["id"])
    assert len(cells) == 4 and set(cells["status"]) == {"succeeded"}
    assert sorted(cells["swav.prototypes"]) == [6, 6, 12, 12]
    by_prototypes = cells.groupby("swav.prototypes")["value"].mean()
    assert by_prototypes[6] == pytest.approx(results["groups"][0]["mean"])


def test_runs_are_listed_and_searched(client: Client, finished_grid: dict[str, Any]) -> None:
    grid_id = finished_grid["grid"]["id"]
    assert len(client.runs(grid=grid_id)) == 4
    six = client.runs(f"grid = '{grid_id}' and swav.prototypes = 6")
    assert sorted(run["seed"] for run in six) == [1, 2]
    assert len(client.runs(grid=grid_id, limit=3)) == 3
    assert len(client.runs(grid=grid_id, page_size=1)) == 4

    by_value = client.runs(grid=grid_id, sort="-metrics.knn_top1@5")
    values = [run["final_metrics"]["knn_top1@5"] for run in by_value]
    assert values == sorted(values, reverse=True)

    listed = next(grid for grid in client.grids() if grid["id"] == grid_id)
    assert listed["axes"] == ["swav.prototypes"] and listed["best"]["n"] == 2
    assert listed["best"]["mean"] == pytest.approx(max(values_by_group(client, grid_id)))

    frame = client.runs_frame(grid=grid_id)
    assert len(frame) == 4
    assert sorted(frame["swav.prototypes"]) == [6, 6, 12, 12]
    assert frame["metrics.knn_top1@5"].notna().all()
    assert set(frame["status"]) == {"succeeded"}


def values_by_group(client: Client, grid_id: str) -> list[float]:
    return [group["mean"] for group in client.results(grid_id)["groups"]]


def test_a_runs_metrics_hold_every_step(client: Client, finished_grid: dict[str, Any]) -> None:
    # Acceptance of "every logged point is stored": 3 epochs whose every step is a log point, trained by the
    # service's worker, read back through the API: one loss point per step, none merged away.
    run_id = client.runs(grid=finished_grid["grid"]["id"], limit=1)[0]["id"]
    run = client.run(run_id)
    total = run["progress"]["total_steps"]
    series = client.metrics(run_id, ["loss", "lr"])
    assert set(series) == {"loss", "lr"}
    # 96 images, a fifth held out for evaluation: 4 batches of 16 per epoch.
    assert total == 12
    assert [point["step"] for point in series["loss"]] == list(range(1, total + 1))
    assert [point["epoch"] for point in series["loss"]] == [1] * 4 + [2] * 4 + [3] * 4

    frame = client.metrics_frame(run_id, ["loss"])
    assert list(frame.columns) == ["run_id", "name", "step", "epoch", "value", "time"]
    assert len(frame) == total and set(frame["run_id"]) == {run_id}
    assert pandas.api.types.is_datetime64_any_dtype(frame["time"])


def test_checkpoints_and_the_backbone_download_with_their_sha256(
    client: Client, finished_grid: dict[str, Any], tmp_path: Path
) -> None:
    run_id = client.runs(grid=finished_grid["grid"]["id"], limit=1)[0]["id"]
    listed = client.checkpoints(run_id)[-1]
    path = client.download_checkpoint(run_id, to=tmp_path)
    assert path.parent == tmp_path and path.name.endswith(".pt")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == listed["sha256"]
    named = client.download_checkpoint(run_id, listed["step"], to=tmp_path / "chosen.pt")
    assert named.read_bytes() == path.read_bytes()
    backbone = client.download_backbone(run_id, to=tmp_path)
    assert backbone.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_errors_carry_the_problem_details(service: str, client: Client, finished_grid: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as refused:
        client.submit({**TINY_BASE, "swav": {"prototypes": -3}})
    assert refused.value.status in (400, 422)
    assert any(error["path"] == "swav.prototypes" for error in refused.value.errors)
    assert "swav.prototypes" in str(refused.value)

    with pytest.raises(NotFound) as missing:
        client.run("no-such-run")
    assert missing.value.status == 404 and missing.value.detail

    with pytest.raises(Unauthorized) as forbidden:
        Client(service, READ_TOKEN).submit(TINY_BASE)
    assert forbidden.value.status == 403 and "submit" in forbidden.value.detail
    with pytest.raises(Unauthorized) as anonymous:
        Client(service, "").runs(limit=1)
    assert anonymous.value.status == 401

    finished = client.runs(grid=finished_grid["grid"]["id"], limit=1)[0]["id"]
    with pytest.raises(Conflict) as conflict:
        client.cancel(finished)
    assert conflict.value.status == 409 and conflict.value.code

    with pytest.raises(Unreachable, match="cannot reach swavlab"):
        Client(f"http://127.0.0.1:{free_port()}", timeout=5).runs(limit=1)


def test_a_wait_past_its_timeout_says_so(client: Client) -> None:
    run = client.submit({**TINY_BASE, "seed": 99, "optim": {**TINY_BASE["optim"], "epochs": 200}})
    try:
        with pytest.raises(WaitTimeout) as late:
            client.wait(run["id"], progress=False, poll=0.2, timeout=0.5)
        assert late.value.last["id"] == run["id"]
    finally:
        client.cancel(run["id"])


def test_flatten_keeps_lists_as_values() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {"a.b": 1, "a.c.d": [1, 2], "e": None}
