"""The CPU budget: cgroup quota parsing on fake cgroup trees, the cap, and a learner's own setting kept."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simplex_edu import cpu

V2_SELF = "0::/user.slice/session-3.scope\n"
V1_SELF = "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


def fake_v2(root: Path, limits: dict[str, str]) -> Path:
    """A cgroup v2 tree: ``limits`` maps a folder under the root ('' for the root) to its cpu.max line."""
    (root / "cgroup.controllers").parent.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    for folder, line in limits.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "cpu.max").write_text(line + "\n")
    return root


def fake_v1(root: Path, mount: str, limits: dict[str, tuple[int, int]]) -> Path:
    """A cgroup v1 tree with the cpu controller at ``root/mount``; ``limits`` maps folders to (quota, period)."""
    for folder, (quota, period) in limits.items():
        path = root / mount / folder
        path.mkdir(parents=True, exist_ok=True)
        (path / "cpu.cfs_quota_us").write_text(f"{quota}\n")
        (path / "cpu.cfs_period_us").write_text(f"{period}\n")
    return root


def test_cpu_max_lines():
    assert cpu.parse_cpu_max("max 100000") is None
    assert cpu.parse_cpu_max("150000 100000") == pytest.approx(1.5)
    assert cpu.parse_cpu_max("50000 100000") == pytest.approx(0.5)
    assert cpu.parse_cpu_max("200000") == pytest.approx(2.0)  # the period defaults to 100 ms


def test_cfs_quota_and_period():
    assert cpu.parse_cfs("-1", "100000") is None
    assert cpu.parse_cfs("100000", "100000") == pytest.approx(1.0)
    assert cpu.parse_cfs("250000", "50000") == pytest.approx(5.0)


def test_v2_quota_is_read_along_the_process_path_and_the_tightest_wins(tmp_path):
    root = fake_v2(tmp_path, {"": "max 100000", "user.slice": "300000 100000",
                              "user.slice/session-3.scope": "150000 100000"})
    assert cpu.cgroup_cpu_limit(root, V2_SELF) == pytest.approx(1.5)
    fake_v2(tmp_path, {"user.slice": "50000 100000"})  # a parent tighter than the process's own folder
    assert cpu.cgroup_cpu_limit(root, V2_SELF) == pytest.approx(0.5)


def test_v2_without_a_quota_is_unlimited(tmp_path):
    root = fake_v2(tmp_path, {"": "max 100000", "user.slice/session-3.scope": "max 100000"})
    assert cpu.cgroup_cpu_limit(root, V2_SELF) is None


def test_v2_in_a_container_reads_the_mount_root(tmp_path):
    """Inside a container the path in /proc/self/cgroup is the host's and is not under the mount: use the root."""
    root = fake_v2(tmp_path, {"": "100000 100000"})
    assert cpu.cgroup_cpu_limit(root, "0::/kubepods/burstable/pod123/container\n") == pytest.approx(1.0)


@pytest.mark.parametrize("mount", ["cpu", "cpu,cpuacct"])
def test_v1_cfs_quota(tmp_path, mount):
    root = fake_v1(tmp_path, mount, {"": (-1, 100000), "docker/abc": (200000, 100000)})
    assert cpu.cgroup_cpu_limit(root, V1_SELF) == pytest.approx(2.0)


def test_v1_unlimited_and_no_cgroup_at_all(tmp_path):
    assert cpu.cgroup_cpu_limit(fake_v1(tmp_path / "a", "cpu", {"": (-1, 100000)}), V1_SELF) is None
    assert cpu.cgroup_cpu_limit(tmp_path / "nothing-mounted", V1_SELF) is None


def test_budget_takes_the_affinity_the_whole_cpus_of_the_quota_and_the_cap():
    assert cpu.cpu_budget(affinity=32, quota=None, cap=4) == 4  # many cores: the cap
    assert cpu.cpu_budget(affinity=32, quota=1.0, cap=4) == 1  # a Binder pod: 1 CPU of 32 cores
    assert cpu.cpu_budget(affinity=32, quota=2.5, cap=4) == 2  # a fraction rounds down
    assert cpu.cpu_budget(affinity=32, quota=0.5, cap=4) == 1  # never 0
    assert cpu.cpu_budget(affinity=3, quota=None, cap=4) == 3  # taskset to 3 cores


def test_budget_sets_the_thread_variables_before_torch_loads(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a fresh kernel: torch not yet loaded
    environ: dict[str, str] = {}
    applied = cpu.apply_cpu_budget(environ, fake_v2(tmp_path, {"": "100000 100000"}), "0::/\n")
    assert applied["threads"] == 1
    assert {environ[name] for name in cpu.THREAD_VARIABLES} == {"1"}


def test_a_learners_thread_variable_is_kept(tmp_path):
    environ = {"OMP_NUM_THREADS": "3"}
    applied = cpu.apply_cpu_budget(environ, fake_v2(tmp_path, {"": "100000 100000"}), "0::/\n")
    assert applied["threads"] is None and "OMP_NUM_THREADS=3" in str(applied["reason"])
    assert environ == {"OMP_NUM_THREADS": "3"}  # nothing added, nothing changed
    assert cpu.status() == "kept the learner's OMP_NUM_THREADS=3"


def test_the_courses_own_variables_are_not_mistaken_for_the_learners(tmp_path, monkeypatch):
    """A kernel started by `simplex-edu start` inherits what the CLI set: it works out its own budget."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    environ = {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "4", cpu.MARKER: "4"}
    applied = cpu.apply_cpu_budget(environ, fake_v2(tmp_path, {"": "100000 100000"}), "0::/\n")
    assert applied["threads"] == 1 and environ["OMP_NUM_THREADS"] == "1"


def _fresh_python(code: str, **env: str) -> str:
    """Run ``code`` in a new interpreter with no thread variables but ``env``; its stripped output."""
    clean = {k: v for k, v in os.environ.items() if k not in (*cpu.THREAD_VARIABLES, cpu.MARKER)}
    return subprocess.check_output([sys.executable, "-c", code], text=True, env={**clean, **env}).strip()


def test_import_sizes_torchs_pool_without_importing_torch():
    out = _fresh_python("import sys, simplex_edu; print('torch' in sys.modules, end=' '); "
                        "import torch; print(torch.get_num_threads())")
    assert out == f"False {cpu.cpu_budget(quota=cpu.cgroup_cpu_limit())}"


def test_torch_set_num_threads_before_the_import_is_kept():
    """The learner chose 7 threads before importing the course (a count torch would not pick by itself)."""
    out = _fresh_python("import torch; torch.set_num_threads(7); import simplex_edu; "
                        "print(torch.get_num_threads(), simplex_edu.cpu.status())")
    assert out == "7 kept torch.set_num_threads(7), set before"


def test_torch_loaded_first_on_its_default_gets_the_budget():
    out = _fresh_python("import os, torch; default = torch.get_num_threads(); import simplex_edu; "
                        "print(default, torch.get_num_threads())")
    default, after = map(int, out.split())
    assert after == min(default, cpu.cpu_budget(quota=cpu.cgroup_cpu_limit()))


def test_omp_num_threads_is_respected_in_a_kernel_like_process():
    assert _fresh_python("import simplex_edu, torch; print(torch.get_num_threads())", OMP_NUM_THREADS="2") == "2"


def test_the_cap_can_be_raised_on_a_machine_of_ones_own_but_the_quota_still_bounds_it(tmp_path, monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(cpu, "affinity_cpus", lambda: 16)
    environ = {cpu.CAP_VARIABLE: "4"}
    assert cpu.apply_cpu_budget(environ, fake_v2(tmp_path / "a", {"": "max 100000"}), "0::/\n")["threads"] == 4
    environ = {cpu.CAP_VARIABLE: "4"}
    assert cpu.apply_cpu_budget(environ, fake_v2(tmp_path / "b", {"": "200000 100000"}), "0::/\n")["threads"] == 2
    environ = {cpu.CAP_VARIABLE: "many"}  # not a number: the default cap
    assert cpu.apply_cpu_budget(environ, fake_v2(tmp_path / "c", {"": "max 100000"}), "0::/\n")["threads"] == 1
