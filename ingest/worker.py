"""A worker process for extraction, with a time and a memory limit per document.

A PDF can hang a parser or eat all memory (decompression bombs, deep object graphs): the
ingest must survive it, record why, and go on. The worker is a plain child process
(`python -m ingest.worker`) talking length-prefixed pickles over its stdin and stdout; it
is reused between documents and replaced when it had to be stopped.

Prefetch runs a step (the extraction) on a thread ahead of its consumer (the embedding),
so that the child extracts the next documents while the main process embeds: the thread
mostly waits on the child's pipe, which releases the GIL.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import queue
import re
import resource
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from ingest.extract import EnvironmentProblem, Extracted, ExtractionError, Limits, extract

_HEADER = struct.Struct("!I")
DEFAULT_LIMITS = Limits()


def _write(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read(stream: IO[bytes]) -> Any:
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return pickle.loads(_read_exact(stream, size))  # noqa: S301 - our own child process


def _handle(path: str, media_type: str, limits: Limits, memory_mb: int) -> tuple[str, Any]:
    try:
        return "ok", extract(Path(path), media_type, limits)
    except ExtractionError as exc:
        return ("transient" if exc.transient else "error"), str(exc)
    except ImportError as exc:  # this machine's fault, not the document's
        name = exc.name or (str(exc).split("'")[1] if "'" in str(exc) else "")
        detail = " ".join(str(exc).split())[:200]
        return "environment", (f"module Python manquant : {name} ({detail})" if name
                               else f"module Python manquant ({detail})")
    except MemoryError:
        return "error", f"mémoire dépassée (limite {memory_mb} Mo)"
    except RecursionError:
        return "error", "structure du fichier trop profonde"
    except Exception as exc:  # noqa: BLE001 - any parser bug becomes a readable reason
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].name})" if last else ""
        return "error", f"lecture impossible : {type(exc).__name__}{where}"


def serve(memory_mb: int, limits: Limits) -> None:
    """The child's loop: one request in, one reply out, until stdin closes."""
    if memory_mb > 0:
        size = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the channel
    while True:
        try:
            path, media_type = _read(stdin)
        except EOFError:
            return
        reply = _handle(path, media_type, limits, memory_mb)
        try:
            _write(stdout, reply)
        except MemoryError:
            _write(stdout, ("error", f"mémoire dépassée (limite {memory_mb} Mo)"))


class ExtractionWorker:
    def __init__(self, limits: Limits = DEFAULT_LIMITS, timeout_s: float = 120,
                 memory_mb: int = 2048) -> None:
        self.limits = limits
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        # close() may come from another thread than extract() (a stopped prefetch): once
        # closed, no new child is started.
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self._stderr is not None:
            self._stderr.close()
        # kept to tell a worker that cannot start (a missing module) from a crash
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives with the worker
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ingest.worker", str(self.memory_mb),
             json.dumps(dataclasses.asdict(self.limits))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            cwd=Path(__file__).resolve().parent.parent)

    def _missing_module(self) -> str | None:
        if self._stderr is None:
            return None
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - 4096))
        tail = self._stderr.read().decode("utf-8", errors="replace")
        match = re.search(r"(?:ModuleNotFoundError|ImportError): (.+)", tail)
        return " ".join(match.group(1).split())[:200] if match else None

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def extract(self, path: Path, media_type: str) -> Extracted:
        with self._lock:
            if self._closed:
                raise ExtractionError("ingestion arrêtée", transient=True)
            if self._process is None or self._process.poll() is not None:
                self._stop()
                self._start()
            process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            _write(process.stdin, (str(path), media_type))
            ready, _, _ = select.select([process.stdout], [], [], self.timeout_s)
            if not ready:
                self._stop()
                raise ExtractionError(f"délai dépassé ({self.timeout_s:.0f} s)", transient=True)
            status, value = _read(process.stdout)
        except (EOFError, BrokenPipeError, OSError):
            code = process.poll()
            self._stop()
            if code in (-9, 137):  # the memory limit: the document's own size
                raise ExtractionError("mémoire dépassée") from None
            missing = self._missing_module()
            if missing:
                raise EnvironmentProblem(f"module Python manquant ({missing})") from None
            raise ExtractionError(f"le lecteur s'est arrêté brutalement (code {code})",
                                  transient=True) from None
        if status == "environment":
            raise EnvironmentProblem(value)
        if status in ("error", "transient"):
            raise ExtractionError(value, transient=status == "transient")
        return value

    def close(self) -> None:
        with self._lock:
            self._closed = True
            process = self._process
            if process is not None and process.poll() is None and process.stdin is not None:
                try:
                    process.stdin.close()
                    process.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._stop()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def stop(self) -> None:
        """Kill a running extraction at once (from another thread: the run is stopping)."""
        with self._lock:  # not between the check for closed and the start of a child
            self._closed = True
            process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def __enter__(self) -> ExtractionWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclasses.dataclass(frozen=True)
class _Failure:
    error: BaseException


class Prefetch(Generic[Job, Result]):
    """Iterate over (job, run(job), seconds) in the jobs' order while a thread runs up to
    `ahead` jobs in advance (ahead=0: in turn, no thread). An exception raised by run is
    raised to the consumer at that job's place, and nothing after it runs. close() stops
    the thread; results not taken are dropped (the caller writes nothing for them, so a
    rerun redoes them)."""

    def __init__(self, jobs: Iterable[Job], run: Callable[[Job], Result], ahead: int,
                 on_stop: Callable[[], None] = lambda: None) -> None:
        self._queue: queue.Queue[tuple[Job, Result | _Failure, float] | None] = (
            queue.Queue(maxsize=max(1, ahead)))
        self._stopping = threading.Event()
        self._on_stop = on_stop
        self._jobs, self._run = iter(jobs), run
        self._thread: threading.Thread | None = None
        self._done = False  # every job ran and was taken
        if ahead > 0:
            self._thread = threading.Thread(target=self._produce, args=(self._jobs, run),
                                            name="fonds-prefetch", daemon=True)
            self._thread.start()

    def _put(self, item: tuple[Job, Result | _Failure, float] | None) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, jobs: Iterator[Job], run: Callable[[Job], Result]) -> None:
        for job in jobs:
            if self._stopping.is_set():
                return
            started = time.perf_counter()
            try:
                result: Result | _Failure = run(job)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                self._put((job, _Failure(exc), time.perf_counter() - started))
                return
            if not self._put((job, result, time.perf_counter() - started)):
                return
        self._put(None)

    def __iter__(self) -> Iterator[tuple[Job, Result, float]]:
        if self._thread is None:
            for job in self._jobs:
                started = time.perf_counter()
                done = self._run(job)
                yield job, done, time.perf_counter() - started
            return
        while True:
            try:
                item = self._queue.get(timeout=1.0)
            except queue.Empty:
                if self._thread.is_alive() or not self._queue.empty():
                    continue
                raise RuntimeError("l'extraction s'est arrêtée sans prévenir") from None
            if item is None:
                self._done = True
                return
            job, result, seconds = item
            if isinstance(result, _Failure):
                raise result.error
            yield job, result, seconds

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            if not self._done and self._thread.is_alive():
                self._on_stop()  # e.g. kill the extraction it waits on
            self._thread.join()

    def __enter__(self) -> Prefetch[Job, Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(int(sys.argv[1]), Limits(**json.loads(sys.argv[2])))
