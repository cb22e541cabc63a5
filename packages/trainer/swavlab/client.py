"""A client for the swavlab REST API, for notebooks and scripts: ``from swavlab.client import Client``.

Standard library only (``urllib``); pandas is optional and used only by the ``*_frame`` methods, which return tidy
DataFrames (one row per run, per group or per metric point). The server and token come from ``SWAVLAB_URL``
(default ``http://127.0.0.1:8080``) and ``SWAVLAB_TOKEN``, as for the ``swavlab`` CLI. Every API error is raised as
an :class:`ApiError` (or one of its subclasses) carrying the problem details the API answered with.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas

DEFAULT_URL = "http://127.0.0.1:8080"
FINISHED = frozenset({"succeeded", "failed", "canceled"})
UNFINISHED = ("queued", "running", "stopping")

Json = dict[str, Any]


class SwavlabError(Exception):
    """Base of the client's errors."""


class Unreachable(SwavlabError):
    """The server did not answer (refused, timed out, DNS)."""


class WaitTimeout(SwavlabError):
    """A wait ran past its ``timeout``; ``last`` is the last state seen."""

    def __init__(self, message: str, last: Json) -> None:
        super().__init__(message)
        self.last = last


class ApiError(SwavlabError):
    """An error response: ``status``, and the RFC 9457 problem's ``code``, ``title``, ``detail`` and ``errors``
    (``[{"path": ..., "message": ...}]``, the fields the server refused and why); ``problem`` is the whole body."""

    def __init__(self, status: int, problem: Json) -> None:
        self.status = status
        self.problem = problem
        self.code: str | None = problem.get("code") if isinstance(problem.get("code"), str) else None
        self.title: str | None = problem.get("title") if isinstance(problem.get("title"), str) else None
        self.detail: str = str(problem.get("detail") or self.title or f"HTTP {status}")
        raw_errors = problem.get("errors")
        self.errors: list[Json] = [e for e in raw_errors if isinstance(e, dict)] if isinstance(raw_errors, list) else []
        lines = [f"{status} {self.code or ''}: {self.detail}".replace(" :", ":")]
        lines += [f"  {e.get('path', '')}: {e.get('message', '')}" for e in self.errors]
        super().__init__("\n".join(lines))


class BadRequest(ApiError):
    """400, 413, 415 or 422: the request or the spec was refused; ``errors`` names the fields."""


class Unauthorized(ApiError):
    """401 or 403: no token, a wrong token, or a token without the scope (``read``, ``submit``, ``admin``)."""


class NotFound(ApiError):
    """404: no such run, grid or file."""


class Conflict(ApiError):
    """409: the resource is not in a state that allows the request (e.g. cancelling a finished run)."""


def _error_for(status: int, problem: Json) -> ApiError:
    if status in (400, 413, 415, 422):
        return BadRequest(status, problem)
    if status in (401, 403):
        return Unauthorized(status, problem)
    if status == 404:
        return NotFound(status, problem)
    if status == 409:
        return Conflict(status, problem)
    return ApiError(status, problem)


def _require_pandas() -> Any:
    try:
        import pandas
    except ImportError as error:
        raise ImportError("the *_frame methods need pandas (pip install pandas, or apt install python3-pandas)") from error
    return pandas


def flatten(value: Mapping[str, Any], prefix: str = "") -> Json:
    """``{"swav": {"prototypes": 30}}`` → ``{"swav.prototypes": 30}`` (lists stay values)."""
    out: Json = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


class Progress:
    """A one-line progress bar on a stream: redrawn in place on a terminal, a line per change elsewhere."""

    def __init__(self, stream: IO[str] | None, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._last = ""
        self._tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())

    def show(self, fraction: float | None, text: str) -> None:
        if self._stream is None:
            return
        filled = 0 if fraction is None else round(max(0.0, min(1.0, fraction)) * self._width)
        line = f"[{'#' * filled}{'.' * (self._width - filled)}] {text}"
        if line == self._last:
            return
        self._last = line
        self._stream.write(f"\r{line}\x1b[K" if self._tty else f"{line}\n")
        self._stream.flush()

    def close(self) -> None:
        if self._stream is not None and self._tty and self._last:
            self._stream.write("\n")
            self._stream.flush()


class Client:
    """The swavlab API at ``url`` (default ``SWAVLAB_URL``, else http://127.0.0.1:8080) with ``token`` (default
    ``SWAVLAB_TOKEN``); ``timeout`` is per request, in seconds."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0) -> None:
        raw = url or os.environ.get("SWAVLAB_URL") or DEFAULT_URL
        parsed = urllib.parse.urlsplit(raw)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"url: expected an http:// or https:// URL, got {raw!r}")
        self.url = raw.rstrip("/")
        self.token = token if token is not None else (os.environ.get("SWAVLAB_TOKEN") or None)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Client({self.url!r}, token={'set' if self.token else 'none'})"

    # Transport

    def _open(self, method: str, path: str, query: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        url = f"{self.url}{path}"
        pairs = [(k, v) for k, v in (query or {}).items() if v is not None]
        if pairs:
            url += "?" + urllib.parse.urlencode(
                [(k, str(item)) for k, v in pairs for item in (v if isinstance(v, (list, tuple)) else [v])]
            )
        headers = {"Accept": "application/json", "X-Swavlab-Client": "python"}
        data = None
        if body is not None or method == "POST":
            data = json.dumps({} if body is None else body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                problem = json.loads(text)
            except json.JSONDecodeError:
                problem = {"detail": f"{error.code} {error.reason}"}
            raise _error_for(error.code, problem if isinstance(problem, dict) else {}) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"cannot reach swavlab at {self.url}: {reason}") from None

    def request(self, method: str, path: str, query: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        """One JSON request to ``path`` (under the server's URL, e.g. ``/v1/runs``); returns the decoded body."""
        with self._open(method, path, query, body) as response:
            return json.loads(response.read() or b"null")

    # Runs

    def submit(self, spec: Mapping[str, Any], priority: int | None = None) -> Json:
        """Submits one run (a spec dict); returns the run, with ``deduplicated`` true when the spec already had one."""
        body = dict(spec) if priority is None else {**spec, "priority": priority}
        return self.request("POST", "/v1/runs", body=body)

    def run(self, run_id: str) -> Json:
        """A run with its spec, status, progress, final metrics, last metric points and evaluations."""
        return self.request("GET", f"/v1/runs/{_segment(run_id)}")

    def iter_runs(
        self,
        q: str | None = None,
        status: str | Sequence[str] | None = None,
        grid: str | None = None,
        tag: str | None = None,
        sort: str | None = None,
        page_size: int = 200,
    ) -> Iterator[Json]:
        """Every run matching the filters, page after page. ``q`` is a search expression
        (``metrics.knn_top1@20 > 0.5 and swav.prototypes = 30``); ``sort`` a sort key such as ``-created_at``."""
        token: str | None = None
        statuses = None if status is None else ([status] if isinstance(status, str) else list(status))
        while True:
            page = self.request(
                "GET",
                "/v1/runs",
                {
                    "q": q,
                    "status": None if statuses is None else ",".join(statuses),
                    "grid": grid,
                    "tag": tag,
                    "sort": sort,
                    "page_size": page_size,
                    "page_token": token,
                },
            )
            yield from page["runs"]
            token = page.get("next_page_token")
            if not token:
                return

    def runs(self, q: str | None = None, limit: int | None = None, **filters: Any) -> list[Json]:
        """Runs matching ``q`` and the filters of :meth:`iter_runs`, at most ``limit`` of them."""
        out: list[Json] = []
        for run in self.iter_runs(q, **filters):
            if limit is not None and len(out) >= limit:
                break
            out.append(run)
        return out

    def runs_frame(self, q: str | None = None, limit: int | None = None, **filters: Any) -> pandas.DataFrame:
        """:meth:`runs` as a DataFrame, one row per run: id, name, status, grid_id, cell_index, seed, created_at,
        duration_seconds, every spec leaf under its path (``swav.prototypes``) and every final metric as
        ``metrics.<name>`` (the names the search expressions use)."""
        pandas = _require_pandas()
        return pandas.DataFrame([run_row(run) for run in self.runs(q, limit, **filters)])

    def metrics(self, run_id: str, names: Sequence[str] | None = None, max_points: int = 100_000) -> Json:
        """A run's metric series: ``{name: [{"step", "epoch", "value", "time"}, ...]}``. Series longer than
        ``max_points`` come downsampled (each step range keeps its lowest and highest point)."""
        body = self.request(
            "GET",
            f"/v1/runs/{_segment(run_id)}/metrics",
            {"name": None if names is None else list(names), "max_points": max_points},
        )
        return {series["name"]: series["points"] for series in body["series"]}

    def metrics_frame(
        self, run_ids: str | Sequence[str], names: Sequence[str] | None = None, max_points: int = 100_000
    ) -> pandas.DataFrame:
        """Metric points of one run or several as a tidy DataFrame, one row per point: run_id, name, step, epoch,
        value, time."""
        pandas = _require_pandas()
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        rows = [
            {"run_id": run_id, "name": name, **point}
            for run_id in ids
            for name, points in self.metrics(run_id, names, max_points).items()
            for point in points
        ]
        frame = pandas.DataFrame(rows, columns=["run_id", "name", "step", "epoch", "value", "time"])
        frame["time"] = pandas.to_datetime(frame["time"])
        return frame

    def checkpoints(self, run_id: str) -> list[Json]:
        """A run's stored checkpoints: epoch, step, path, sha256, bytes, attempt, created_at."""
        return self.request("GET", f"/v1/runs/{_segment(run_id)}/checkpoints")["checkpoints"]

    def download_checkpoint(self, run_id: str, step: int | str = "latest", to: str | os.PathLike[str] = ".") -> Path:
        """Downloads a checkpoint (``step`` as listed, or ``"latest"``) into the folder or file ``to``; the file's
        sha256 is checked against the server's. Returns the file's path."""
        return self._download(f"/v1/runs/{_segment(run_id)}/checkpoints/{_segment(str(step))}/file", Path(to))

    def download_backbone(self, run_id: str, to: str | os.PathLike[str] = ".") -> Path:
        """Downloads the backbone exported when the run succeeded (a torchvision-loadable state dict)."""
        return self._download(f"/v1/runs/{_segment(run_id)}/backbone", Path(to))

    def cancel(self, run_id: str) -> Json:
        """Cancels a queued or running run (a running one checkpoints first)."""
        return self.request("POST", f"/v1/runs/{_segment(run_id)}/cancel")

    def retry(self, run_id: str) -> Json:
        """Queues a failed or canceled run again; it resumes from its latest checkpoint."""
        return self.request("POST", f"/v1/runs/{_segment(run_id)}/retry")

    def wait(
        self, run_id: str, progress: bool | IO[str] = True, poll: float = 2.0, timeout: float | None = None
    ) -> Json:
        """Polls a run until it has finished (succeeded, failed or canceled) and returns it; ``progress`` draws a
        bar on stderr (or on the stream given). Raises :class:`WaitTimeout` after ``timeout`` seconds."""
        bar = Progress(_stream(progress))
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                run = self.run(run_id)
                done = run["progress"]
                fraction = 1.0 if run["status"] == "succeeded" else done.get("fraction")
                where = f"step {done['step']}/{done['total_steps']}" if done.get("total_steps") else ""
                bar.show(fraction, f"{run_id} {run['status']} {where}".rstrip())
                if run["status"] in FINISHED:
                    return run
                _sleep_until(deadline, poll, f"run {run_id} did not finish", run)
        finally:
            bar.close()

    # Grids

    def submit_grid(self, grid: Mapping[str, Any], dry_run: bool = False) -> Json:
        """Submits a grid (``{"name", "base", "axes", "seeds", "metric"}``); with ``dry_run`` returns its cells
        without storing anything."""
        return self.request("POST", "/v1/grids", {"dry_run": "true" if dry_run else None}, body=dict(grid))

    def grid(self, grid_id: str) -> Json:
        """A grid with its spec, metric, cell count and run counts per status."""
        return self.request("GET", f"/v1/grids/{_segment(grid_id)}")

    def grids(self) -> list[Json]:
        """Every grid, newest first."""
        return self.request("GET", "/v1/grids")["grids"]

    def wait_grid(
        self, grid_id: str, progress: bool | IO[str] = True, poll: float = 2.0, timeout: float | None = None
    ) -> Json:
        """Polls a grid until none of its runs is queued, running or stopping, and returns it; ``progress`` draws
        a bar with the finished cells and the counts per status."""
        bar = Progress(_stream(progress))
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                grid = self.grid(grid_id)
                counts = grid["status_counts"]
                total = counts["total"] or 1
                finished = sum(counts[status] for status in FINISHED)
                detail = " ".join(f"{counts[s]} {s}" for s in (*UNFINISHED, *sorted(FINISHED)) if counts[s])
                bar.show(finished / total, f"{grid['name']}: {finished}/{counts['total']} finished ({detail})")
                if all(counts[status] == 0 for status in UNFINISHED):
                    return grid
                _sleep_until(deadline, poll, f"grid {grid_id} did not finish", grid)
        finally:
            bar.close()

    def results(
        self,
        grid_id: str,
        metric: str | None = None,
        group_by: Sequence[str] | None = None,
        goal: str | None = None,
        difference: float | None = None,
    ) -> Json:
        """A grid's ablation table: per group of ``group_by`` (default the axes) n, mean, std, median, min, max,
        the 95 % CI, ``best`` and ``tied_with_best``, plus the comparison and what the seeds resolve."""
        return self.request(
            "GET",
            f"/v1/grids/{_segment(grid_id)}/results",
            {
                "metric": metric,
                "group_by": None if group_by is None else list(group_by),
                "goal": goal,
                "difference": difference,
            },
        )

    def results_frame(
        self, grid_id: str, metric: str | None = None, group_by: Sequence[str] | None = None, goal: str | None = None
    ) -> pandas.DataFrame:
        """:meth:`results` as a DataFrame, one row per group: the group_by paths, metric, n, mean, std, median, min,
        max, ci95_low, ci95_high, best, tied_with_best, p_adjusted."""
        pandas = _require_pandas()
        return pandas.DataFrame(results_rows(self.results(grid_id, metric, group_by, goal)))

    def cells(self, grid_id: str, metric: str | None = None) -> list[Json]:
        """Every cell of a grid with its run, status, axis values, seed and the metric's final value so far."""
        return self.request("GET", f"/v1/grids/{_segment(grid_id)}/cells", {"metric": metric})["cells"]

    def cells_frame(self, grid_id: str, metric: str | None = None) -> pandas.DataFrame:
        """:meth:`cells` as a DataFrame, one row per run: run_id, cell_index, seed, status, the axis paths, the
        metric's value and costs."""
        pandas = _require_pandas()
        rows = [
            {k: v for k, v in cell.items() if k != "axis_values"} | dict(cell.get("axis_values") or {})
            for cell in self.cells(grid_id, metric)
        ]
        return pandas.DataFrame(rows)

    def rerun_failed(self, grid_id: str) -> Json:
        """Queues the grid's failed and canceled cells again."""
        return self.request("POST", f"/v1/grids/{_segment(grid_id)}/rerun-failed")

    def add_seeds(self, grid_id: str, add: int | None = None, seeds: Sequence[int] | None = None) -> Json:
        """Adds seeds to every cell of a grid: ``add=2`` the next two, or ``seeds=[3, 4]`` those the grid should
        have. Only new runs are created."""
        body: Json = {"add": add} if seeds is None else {"seeds": list(seeds)}
        return self.request("POST", f"/v1/grids/{_segment(grid_id)}/seeds", body=body)

    # Files

    def _download(self, path: str, to: Path) -> Path:
        with self._open("GET", path) as response:
            target = to / _file_name(response.headers.get("Content-Disposition"), path) if to.is_dir() else to
            expected = (response.headers.get("ETag") or "").strip('"')
            digest = hashlib.sha256()
            partial = target.with_name(f".{target.name}.part")
            with partial.open("wb") as out:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
        if expected and digest.hexdigest() != expected:
            partial.unlink()
            raise SwavlabError(f"{path}: downloaded sha256 {digest.hexdigest()} differs from the server's {expected}")
        shutil.move(partial, target)
        return target


def run_row(run: Mapping[str, Any]) -> Json:
    """One run as a flat row (see :meth:`Client.runs_frame`)."""
    metrics = run.get("final_metrics") or {}
    return {
        "id": run["id"],
        "name": run.get("name"),
        "status": run["status"],
        "grid_id": run.get("grid_id"),
        "cell_index": run.get("cell_index"),
        "seed": run.get("seed"),
        "created_at": run["timings"]["created_at"],
        "duration_seconds": run["timings"].get("duration_seconds"),
        **flatten(run.get("spec") or {}),
        **{f"metrics.{name}": value for name, value in metrics.items() if not isinstance(value, (list, dict))},
    }


def results_rows(results: Mapping[str, Any]) -> list[Json]:
    """A results answer's groups as flat rows (see :meth:`Client.results_frame`)."""
    rows = []
    for group in results["groups"]:
        ci = group.get("ci95") or {}
        test = group.get("test") or {}
        rows.append(
            {
                **group["key"],
                "metric": results["metric"],
                **{k: group.get(k) for k in ("n", "mean", "std", "median", "min", "max")},
                "ci95_low": ci.get("low"),
                "ci95_high": ci.get("high"),
                "best": group.get("best"),
                "tied_with_best": group.get("tied_with_best"),
                "p_adjusted": test.get("p_adjusted"),
            }
        )
    return rows


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _stream(progress: bool | IO[str]) -> IO[str] | None:
    if progress is True:
        return sys.stderr
    return None if progress is False else progress


def _sleep_until(deadline: float | None, poll: float, what: str, last: Json) -> None:
    if deadline is not None and time.monotonic() + poll > deadline:
        raise WaitTimeout(f"{what} within the timeout", last)
    time.sleep(poll)


def _file_name(disposition: str | None, path: str) -> str:
    match = re.search(r'filename="?([^";]+)"?', disposition or "")
    name = match.group(1) if match else path.rstrip("/").rsplit("/", 1)[-1]
    return Path(name).name or "download"
