"""`simplex-edu start` with a real JupyterLab: a second start on the same folder opens the running server, and a
real Ctrl-C (SIGINT) stops it in one line, exit code 0, with no runtime file left behind."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends SIGINT as a POSIX terminal does")


def _wait_for(condition, seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"simplex-edu start exited early: {process.communicate()[0]}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.2)


def test_second_start_opens_the_running_server_and_ctrl_c_stops_it_cleanly(tmp_path):
    runtime = tmp_path / "runtime"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "BROWSER": "true", "PYTHONUNBUFFERED": "1"}  # `true URL`: a browser that opens nothing
    command = [sys.executable, "-m", "simplex_edu.cli", "start", str(tmp_path / "work")]
    log = open(tmp_path / "jupyterlab.log", "w")  # JupyterLab's log: a file, so a full pipe never blocks it
    # Started as a shell starts a background job (SIGINT ignored, as when CI runs in the background): still stops.
    first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=log, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_for(lambda: list(runtime.glob("jpserver-*.json")), 120, "jpserver-*.json", first)
        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "already runs on" in second.stdout and str(tmp_path / "work") in second.stdout, second.stdout
        info, = runtime.glob("jpserver-*.json")  # no second server
        server = json.loads(info.read_text())["pid"]

        first.send_signal(signal.SIGINT)  # what Ctrl-C in its terminal sends
        out, _ = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
        log.close()
    err = (tmp_path / "jupyterlab.log").read_text()
    assert first.returncode == 0, err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
    assert out.strip().splitlines()[-1] == "simplex-edu start: stopped JupyterLab; the same command starts it again"
    assert not list(runtime.glob("jpserver-*")), "a stale runtime file was left behind"
    with pytest.raises(ProcessLookupError):  # JupyterLab itself is gone, not orphaned
        os.kill(server, 0)


def test_running_server_matches_only_a_live_server_on_the_same_folder(tmp_path, monkeypatch):
    from simplex_edu import launcher

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for name, pid, root in (("a", int(dead.stdout), "work"), ("b", os.getpid(), "other")):
        (tmp_path / f"jpserver-{name}.json").write_text(f'{{"pid": {pid}, "root_dir": "{tmp_path / root}"}}')
    (tmp_path / "jpserver-c.json").write_text('{"pid": ')  # half written
    assert launcher.running_server(tmp_path / "work") is None
    assert launcher.running_server(tmp_path / "other")["pid"] == os.getpid()
