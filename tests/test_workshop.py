"""The workshop recipes: Binder's kernel shutdown and culling, the JupyterHub configs' limits, the load test's sums."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
KERNEL_BUDGET_GB = 1.5  # COURSE.md: a solution notebook's kernel peaks at <= 1.5 GB


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _gigabytes(size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*([KMGT]?)", size.strip()).groups()
    return float(number) * {"K": 2**-20, "M": 2**-10, "G": 1, "T": 2**10, "": 2**-30}[unit]


def test_binder_shuts_a_kernel_down_when_its_notebook_closes():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"]["kernelShutdown"] is True
    # The setting must exist in the JupyterLab installed here (a renamed setting would be silently ignored).
    from jupyter_core.paths import jupyter_path

    schemas = [Path(folder) / "@jupyterlab" / "notebook-extension" / "tracker.json"
               for folder in jupyter_path("lab", "schemas")]
    tracker = next(path for path in schemas if path.is_file())
    assert "kernelShutdown" in json.loads(tracker.read_text())["properties"]


def test_binder_culls_idle_kernels_with_real_server_settings():
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager

    config = json.loads((ROOT / "binder" / "jupyter_server_config.json").read_text())["MappingKernelManager"]
    traits = MappingKernelManager.class_traits(config=True)
    assert set(config) <= set(traits), f"not settings of the kernel manager: {set(config) - set(traits)}"
    assert 0 < config["cull_idle_timeout"] <= 3600 and config["cull_interval"] <= 120
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "binder/jupyter_server_config.json" in post_build and "jupyter_server_config.d" in post_build
    assert "binder/overrides.json" in post_build and "lab/settings/overrides.json" in post_build


def _hub_config() -> Config:
    """workshop/jupyterhub_config.py loaded as JupyterHub loads it (``get_config`` in its namespace)."""
    config = Config()
    code = (ROOT / "workshop" / "jupyterhub_config.py").read_text()
    exec(compile(code, "jupyterhub_config.py", "exec"), {"get_config": lambda: config, "__name__": "config"})
    return config


def test_single_vm_hub_limits_fit_the_budgets_and_cull():
    c = _hub_config()
    memory = _gigabytes(c.Spawner.mem_limit)
    assert KERNEL_BUDGET_GB + 0.2 <= memory <= 4, "room for a lesson's kernel peak and its server, not much more"
    assert 1 <= c.Spawner.cpu_limit <= 2
    assert c.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"  # the spawner that enforces the limits
    assert any("jupyterhub_idle_culler" in " ".join(s["command"]) for s in c.JupyterHub.services)
    assert any("cull_idle_timeout" in arg for arg in c.Spawner.args)
    assert "simplex-edu" in " ".join(c.Spawner.cmd) and "start --no-open" in " ".join(c.Spawner.cmd)
    culler_role = next(r for r in c.JupyterHub.load_roles if "idle-culler" in r["services"])
    assert "delete:servers" in culler_role["scopes"]


def test_kubernetes_values_match_the_single_vm_limits():
    values = yaml.safe_load((ROOT / "workshop" / "values.yaml").read_text())
    c = _hub_config()
    user = values["singleuser"]
    assert _gigabytes(user["memory"]["limit"]) == _gigabytes(c.Spawner.mem_limit)
    assert float(user["cpu"]["limit"]) == c.Spawner.cpu_limit
    assert values["cull"]["enabled"] is True
    assert "simplex-edu start --no-open" in " ".join(user["lifecycleHooks"]["postStart"]["exec"]["command"])


def test_seats_per_node_from_measurements():
    load = _load_script("workshop_load")
    users = [load.UserRun("a", peak_mb=500, kernel_cpu_s=6.0), load.UserRun("b", peak_mb=450, kernel_cpu_s=4.0)]
    seats = load.seats_per_node(users, cores=8, gb=32)
    assert seats["memory"] == int((32 - load.NODE_RESERVE_GB) * 1024 // 500)  # the largest peak decides
    assert seats["cpu"] == int(8 * load.NOTEBOOK_BUDGET_S // 5.0)  # the mean CPU seconds per run
    assert seats["seats"] == min(seats["memory"], seats["cpu"])


def test_binary_kernel_messages_are_read():
    """A message with buffers (a widget's PNG) arrives as a binary frame: offsets, then JSON, then buffers."""
    load = _load_script("workshop_load")
    body, buffer = json.dumps({"parent_header": {"msg_id": "x"}}).encode(), b"\x89PNG..."
    header = (2).to_bytes(4, "big") + (12).to_bytes(4, "big") + (12 + len(body)).to_bytes(4, "big")
    assert load.decode(header + body + buffer) == {"parent_header": {"msg_id": "x"}}
    assert load.decode('{"a": 1}') == {"a": 1}


def test_load_test_refuses_bad_arguments_in_one_line():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "workshop_load.py"), "--users", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--users" in result.stderr
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "workshop_load.py"), "--lesson", "99"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stderr.strip().startswith("workshop_load: no solution notebook")
