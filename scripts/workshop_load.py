"""Workshop load test: a real JupyterHub on 127.0.0.1, N users each running one lesson top to bottom at once.

    python scripts/workshop_load.py --users 8 --lesson 04 [--node-cores 8 --node-gb 32]

Starts JupyterHub (SimpleLocalProcessSpawner, DummyAuthenticator, the Python configurable-http-proxy), all on
loopback, in a temporary folder. Through the hub's REST API (a service token) it creates N users, starts each
one's server and gives each user a token. Every user then opens the solution notebook of the lesson on their own
server (Jupyter server REST API) and runs its cells one by one over the kernel's websocket, all users at the same
time, as a class pressing Run All together. Prints per user: wall time, peak memory of their server and kernel,
the kernel's CPU seconds and any failure; then totals and how many seats a node of the given size holds, computed
from those measurements. Stops everything it started. On failure: one line on stderr and exit status 1.
Needs the `hub` extra: pip install -c constraints.txt -e ".[hub]".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
HUB_START_S = 120  # hub and proxy up
SPAWN_S = 180  # one user's server up, with N starting together on a busy machine
CELL_S = 600  # one cell (a training run among N on a shared CPU)
SAMPLE_S = 0.25  # memory sampling interval
NOTEBOOK_BUDGET_S = 60.0  # COURSE.md: a solution notebook runs in <= 60 s
NODE_RESERVE_GB = 1.0  # what the OS, the hub and the proxy keep on a node
SERVICE = "workshop-load"


class LoadError(Exception):
    """A failure to report in one line (the hub did not start, a server did not spawn, ...)."""


@dataclass
class UserRun:
    """One simulated learner: their token, what their lesson run measured, and whether it failed."""

    name: str
    token: str = ""
    seconds: float = 0.0
    peak_mb: float = 0.0
    kernel_cpu_s: float = 0.0
    cells: int = 0
    failure: str = ""
    pids: set[int] = field(default_factory=set)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def find_lesson(number: str) -> Path:
    """The solution notebook of lesson ``number`` (e.g. '00')."""
    found = sorted((ROOT / "solutions").glob(f"{int(number):02d}_*.ipynb"))
    if not found:
        raise LoadError(f"no solution notebook for lesson {number} in {ROOT / 'solutions'}")
    return found[0]


def hub_config(folder: Path, ports: dict[str, int], service_token: str) -> Path:
    """Write the hub's config: loopback only, local single-user servers in per-user folders, a service token."""
    proxy = shutil.which("configurable-http-proxy", path=str(BIN)) or shutil.which("configurable-http-proxy")
    if proxy is None:
        raise LoadError("configurable-http-proxy is not installed (pip install -c constraints.txt -e '.[hub]')")
    singleuser = shutil.which("jupyterhub-singleuser", path=str(BIN)) or "jupyterhub-singleuser"
    args = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    config = {
        "ip": LOOPBACK, "port": ports["hub"], "hub_port": ports["internal"], "api": ports["api"],
        "proxy": proxy, "singleuser": singleuser, "args": args, "folder": str(folder),
        "lessons": str(ROOT / "solutions"), "token": service_token, "service": SERVICE,
    }
    path = folder / "jupyterhub_config.py"
    path.write_text(f"""\
import shutil
from pathlib import Path
settings = {config!r}
c.JupyterHub.ip = settings["ip"]
c.JupyterHub.port = settings["port"]
c.JupyterHub.hub_ip = settings["ip"]
c.JupyterHub.hub_port = settings["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://{{settings['ip']}}:{{settings['api']}}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.pid_file = settings["folder"] + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + settings["folder"] + "/hub.sqlite"
c.JupyterHub.cookie_secret_file = settings["folder"] + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0
c.SimpleLocalProcessSpawner.home_dir_template = settings["folder"] + "/home/{{username}}"
c.Spawner.cmd = [settings["singleuser"]]
c.Spawner.args = settings["args"]
c.Spawner.start_timeout = {SPAWN_S}
c.Spawner.http_timeout = {SPAWN_S}
c.Spawner.environment = {{"PYTHONUNBUFFERED": "1"}}  # and no thread variables: as a learner's server

def copy_course(spawner):
    \"\"\"The course preinstalled: each user's folder gets the solution notebooks.\"\"\"
    home = Path(spawner.home_dir)
    if not (home / "lessons").exists():
        shutil.copytree(settings["lessons"], home / "lessons", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

c.Spawner.pre_spawn_hook = copy_course
c.JupyterHub.services = [{{"name": settings["service"], "api_token": settings["token"]}}]
c.JupyterHub.load_roles = [{{"name": settings["service"], "services": [settings["service"]],
                            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
""")
    return path


class Hub:
    """A JupyterHub process (and the proxy it starts) in a temporary folder; ``stop`` ends all it started."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.ports = {"hub": free_port(), "internal": free_port(), "api": free_port()}
        self.token = secrets.token_hex(24)
        self.base = f"http://{LOOPBACK}:{self.ports['hub']}"
        config = hub_config(folder, self.ports, self.token)
        self.log = folder / "hub.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(config)], cwd=folder, env=env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.started: set[int] = set()  # every process the hub started (servers run in sessions of their own)

    def log_tail(self, lines: int = 3) -> str:
        """The hub log's last lines, joined into one, for a one-line error."""
        text = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        return " | ".join(line.strip() for line in text[-lines:])

    def remember_children(self) -> None:
        """Note every process below the hub now, so ``stop`` can end it even if the hub does not."""
        try:
            self.started.update(p.pid for p in psutil.Process(self.process.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass

    def stop(self) -> None:
        """Stop the hub (it stops the servers and the proxy), then whatever it started and left running."""
        self.remember_children()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        left = []
        for pid in self.started:
            try:
                process = psutil.Process(pid)
                process.terminate()
                left.append(process)
            except psutil.NoSuchProcess:
                pass
        _gone, alive = psutil.wait_procs(left, timeout=10)
        for process in alive:
            process.kill()


async def call(client, method: str, url: str, token: str, body: object = None, ok=(200, 201, 202, 204)) -> object:
    """One REST call with a token; the decoded JSON answer (None when empty). Non-ok status: LoadError."""
    from tornado.httpclient import HTTPClientError

    try:
        response = await client.fetch(url, method=method, headers={"Authorization": f"token {token}"},
                                      body=None if body is None and method != "POST" else json.dumps(body or {}),
                                      request_timeout=60, allow_nonstandard_methods=True)
    except HTTPClientError as error:
        if error.code in ok:
            return None
        detail = error.response.body.decode(errors="replace")[:200] if error.response is not None else ""
        raise LoadError(f"{method} {url.split('?')[0]} answered {error.code} {detail}".strip()) from None
    return json.loads(response.body) if response.body else None


async def wait_for_hub(hub: Hub, client) -> None:
    """Wait until the hub's API answers through the proxy."""
    deadline = time.monotonic() + HUB_START_S
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise LoadError(f"JupyterHub exited with {hub.process.returncode}: {hub.log_tail()}")
        try:
            await call(client, "GET", f"{hub.base}/hub/api/", hub.token)
            return
        except (OSError, LoadError):
            await asyncio.sleep(0.5)
    raise LoadError(f"JupyterHub not ready after {HUB_START_S} s: {hub.log_tail()}")


async def log_in(hub: Hub, client, user: UserRun) -> None:
    """Create the user, start their server, wait until it is ready, and give them a token for it."""
    api = f"{hub.base}/hub/api/users/{user.name}"
    await call(client, "POST", api, hub.token)
    await call(client, "POST", f"{api}/server", hub.token)
    started = time.monotonic()
    while True:
        model = await call(client, "GET", api, hub.token)
        server = (model or {}).get("servers", {}).get("", {})
        if server.get("ready"):
            break
        if not server and time.monotonic() - started > 5:  # neither pending nor ready: the spawn failed
            raise LoadError(f"{user.name}'s server stopped while starting: {hub.log_tail()}")
        if time.monotonic() - started > SPAWN_S:
            raise LoadError(f"{user.name}'s server not ready after {SPAWN_S} s: {hub.log_tail()}")
        await asyncio.sleep(0.5)
    answer = await call(client, "POST", f"{api}/tokens", hub.token,
                        {"note": "workshop load test", "expires_in": 3600, "scopes": [f"access:servers!user={user.name}"]})
    user.token = answer["token"]


def message(code: str, session: str) -> dict:
    """A Jupyter execute_request for ``code``."""
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": session,
                       "username": "workshop-load", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}


def decode(raw: str | bytes) -> dict:
    """A kernel websocket message: JSON text, or a binary frame (a message with buffers, e.g. a widget's PNG).

    A binary frame starts with the count of its parts and their offsets (4-byte big-endian each); the first part
    is the message's JSON, the rest are its buffers (not needed here).
    """
    if isinstance(raw, str):
        return json.loads(raw)
    parts = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(parts)]
    end = offsets[1] if parts > 1 else len(raw)
    return json.loads(raw[offsets[0]:end])


async def execute(ws, code: str, session: str) -> str | None:
    """Run one cell over the kernel websocket and wait until the kernel is idle again; the error, if any."""
    request = message(code, session)
    await ws.write_message(json.dumps(request))
    reply, idle, error = None, False, None
    while reply is None or not idle:
        raw = await asyncio.wait_for(ws.read_message(), CELL_S)
        if raw is None:
            raise LoadError("the kernel's websocket closed (did the kernel die?)")
        msg = decode(raw)
        if msg.get("parent_header", {}).get("msg_id") != request["header"]["msg_id"]:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "execute_reply":
            reply = msg["content"]
            if reply.get("status") != "ok":
                error = f"{reply.get('ename', 'error')}: {reply.get('evalue', '')}"[:160]
        elif kind == "status" and msg["content"].get("execution_state") == "idle":
            idle = True
    return error


async def run_lesson(hub: Hub, client, user: UserRun, notebook: str, cells: list[tuple[str, bool]]) -> None:
    """Open the lesson on the user's server and run its code cells one by one; record time or failure.

    ``cells``: each code cell's source and whether it is meant to raise (tagged ``raises-exception``, as a
    deliberately wrong answer shown to the learner).
    """
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    base = f"{hub.base}/user/{user.name}"
    start = time.perf_counter()
    try:
        session = await call(client, "POST", f"{base}/api/sessions", user.token,
                             {"path": f"lessons/{notebook}", "type": "notebook", "name": notebook,
                              "kernel": {"name": "python3"}})
        kernel = session["kernel"]["id"]
        ws_url = f"ws://{LOOPBACK}:{hub.ports['hub']}/user/{user.name}/api/kernels/{kernel}/channels"
        ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {user.token}"}),
                                     max_message_size=256 * 2**20)
        try:
            session_id = uuid.uuid4().hex
            for code, raises in cells:
                error = await execute(ws, code, session_id)
                user.cells += 1
                if error and not raises:
                    user.failure = f"cell {user.cells}: {error}"
                    break
        finally:
            ws.close()
        user.seconds = time.perf_counter() - start
        await call(client, "DELETE", f"{base}/api/sessions/{session['id']}", user.token)
    except (LoadError, asyncio.TimeoutError, OSError) as problem:
        user.seconds = time.perf_counter() - start
        user.failure = user.failure or (str(problem) or type(problem).__name__)[:200]


def user_processes(hub: Hub) -> dict[str, list[psutil.Process]]:
    """Each user's processes (their server and its kernels), found by the JUPYTERHUB_USER the hub gives them."""
    found: dict[str, list[psutil.Process]] = {}
    try:
        below = psutil.Process(hub.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for process in below:
        try:
            name = process.environ().get("JUPYTERHUB_USER")
        except (psutil.Error, OSError):
            continue
        if name:
            found.setdefault(name, []).append(process)
    return found


async def sample_memory(hub: Hub, users: dict[str, UserRun], stop: asyncio.Event, totals: list[float]) -> None:
    """Until ``stop``: each user's RSS (server + kernels) every SAMPLE_S; keep each peak and the peak of the sum."""
    while not stop.is_set():
        hub.remember_children()
        total = 0.0
        for name, processes in user_processes(hub).items():
            rss = 0
            for process in processes:
                try:
                    rss += process.memory_info().rss
                    users[name].pids.add(process.pid)
                except psutil.Error:
                    pass
            if name in users:
                users[name].peak_mb = max(users[name].peak_mb, rss / 2**20)
            total += rss / 2**20
        totals.append(total)
        await asyncio.sleep(SAMPLE_S)


def kernel_cpu_seconds(hub: Hub, user: UserRun) -> float:
    """CPU seconds used so far by the user's kernels (ipykernel processes), user + system time."""
    seconds = 0.0
    for process in user_processes(hub).get(user.name, []):
        try:
            if "ipykernel" in " ".join(process.cmdline()):
                times = process.cpu_times()
                seconds += times.user + times.system
        except psutil.Error:
            pass
    return seconds


async def run_user(hub: Hub, client, user: UserRun, notebook: str, cells: list[tuple[str, bool]]) -> None:
    """Run the lesson for one user and read their kernel's CPU time just before it shuts down."""
    watcher = asyncio.create_task(_watch_cpu(hub, user))
    try:
        await run_lesson(hub, client, user, notebook, cells)
    finally:
        watcher.cancel()


async def _watch_cpu(hub: Hub, user: UserRun) -> None:
    """Keep the user's kernel CPU seconds current (the kernel is gone once the session is deleted)."""
    while True:
        user.kernel_cpu_s = max(user.kernel_cpu_s, kernel_cpu_seconds(hub, user))
        await asyncio.sleep(SAMPLE_S)


def seats_per_node(users: list[UserRun], cores: int, gb: float) -> dict[str, float]:
    """Seats a node holds, from the measurements: by memory (peak per user) and by CPU (a whole class's Run All).

    Memory: (node minus NODE_RESERVE_GB) / the largest per-user peak. CPU: seats whose lesson runs, all started at
    once, still finish within the notebook budget: cores x budget / the mean kernel CPU seconds per run.
    """
    peak = max(u.peak_mb for u in users)
    cpu = statistics.mean(u.kernel_cpu_s for u in users)
    by_memory = math.floor((gb - NODE_RESERVE_GB) * 1024 / peak) if peak > 0 else 0
    by_cpu = math.floor(cores * NOTEBOOK_BUDGET_S / cpu) if cpu > 0 else 0
    return {"memory": by_memory, "cpu": by_cpu, "seats": min(by_memory, by_cpu), "peak_mb": peak, "cpu_s": cpu}


async def load_test(args: argparse.Namespace, folder: Path) -> list[UserRun]:
    """Start the hub, log the users in, run the lesson for all of them at once; stop the hub whatever happens."""
    from tornado.httpclient import AsyncHTTPClient

    notebook = find_lesson(args.lesson)
    cells = [(c.source, "raises-exception" in c.metadata.get("tags", []))
             for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    users = {f"learner{i + 1}": UserRun(f"learner{i + 1}") for i in range(args.users)}
    client = AsyncHTTPClient(max_clients=max(10, 4 * args.users))
    hub = Hub(folder)
    stop, totals = asyncio.Event(), [0.0]
    try:
        await wait_for_hub(hub, client)
        started = time.perf_counter()
        await asyncio.gather(*(log_in(hub, client, user) for user in users.values()))
        print(f"hub up, {args.users} users logged in and their servers started in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        sampler = asyncio.create_task(sample_memory(hub, users, stop, totals))
        started = time.perf_counter()
        await asyncio.gather(*(run_user(hub, client, user, notebook.name, cells) for user in users.values()))
        wall = time.perf_counter() - started
        stop.set()
        await sampler
        for user in users.values():
            if not user.failure and user.cells < len(cells):
                user.failure = f"ran {user.cells} of {len(cells)} cells"
        args.wall, args.total_peak, args.notebook, args.cells = wall, max(totals), notebook.name, len(cells)
        for name in users:
            await call(client, "DELETE", f"{hub.base}/hub/api/users/{name}/server", hub.token)
    finally:
        stop.set()
        client.close()
        hub.stop()
    return list(users.values())


def report(users: list[UserRun], args: argparse.Namespace) -> None:
    """Print the per-user table, the totals and the seats per node."""
    print(f"\nlesson {args.notebook} ({args.cells} code cells), {len(users)} users at once on "
          f"{psutil.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end)")
    print("| user | wall s | peak MB (server + kernel) | kernel CPU s | failure |")
    print("|---|---|---|---|---|")
    for user in users:
        print(f"| {user.name} | {user.seconds:.1f} | {user.peak_mb:.0f} | {user.kernel_cpu_s:.1f} "
              f"| {user.failure or '–'} |")
    failed = sum(bool(u.failure) for u in users)
    seconds = [u.seconds for u in users]
    print(f"\ntotals: {len(users) - failed} of {len(users)} ran the lesson without a failure; wall time for all "
          f"{args.wall:.1f} s (per user median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s); "
          f"peak memory of all users together {args.total_peak:.0f} MB")
    seats = seats_per_node(users, args.node_cores, args.node_gb)
    print(f"seats per node ({args.node_cores} cores, {args.node_gb:g} GB): {seats['seats']} "
          f"(memory: {seats['memory']} at {seats['peak_mb']:.0f} MB per user with {NODE_RESERVE_GB:g} GB kept "
          f"for the system; CPU: {seats['cpu']} for a whole class's Run All within {NOTEBOOK_BUDGET_S:.0f} s at "
          f"{seats['cpu_s']:.1f} CPU s per run)")


def main() -> int:
    """Parse the arguments, run the load test, print the table; one line and exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2, help="learners at once (default 2)")
    parser.add_argument("--lesson", default="00", help="lesson number, e.g. 04 (default 00)")
    parser.add_argument("--node-cores", type=int, default=8, help="node size for seats per node (default 8)")
    parser.add_argument("--node-gb", type=float, default=32.0, help="node memory in GB (default 32)")
    args = parser.parse_args()
    if args.users < 1 or not args.lesson.isdigit():
        print("workshop_load: --users must be at least 1 and --lesson a number such as 04", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="simplex-edu-hub-") as tmp:
        try:
            users = asyncio.run(load_test(args, Path(tmp)))
        except (LoadError, OSError) as problem:
            print(f"workshop_load: {problem}", file=sys.stderr)
            return 1
        except Exception as problem:  # a bug here or an answer we did not expect: still one line
            print(f"workshop_load: {type(problem).__name__}: {problem}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("workshop_load: interrupted; the hub and its servers were stopped", file=sys.stderr)
            return 1
    report(users, args)
    failed = [u for u in users if u.failure]
    if failed:
        print(f"workshop_load: {len(failed)} of {len(users)} users failed; first: {failed[0].name}: "
              f"{failed[0].failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
