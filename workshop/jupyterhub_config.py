"""JupyterHub for a simplex-edu workshop on one VM (for when a class outgrows Binder).

Each learner gets a JupyterLab server in a systemd unit with a memory and a CPU cap (jupyterhub-systemdspawner),
so one learner's training run cannot starve the room, and the course's CPU budget (simplex_edu/cpu.py) reads that
cap from the cgroup and runs each kernel on one thread. The course comes preinstalled (install.sh): every server
starts with `simplex-edu start --no-open`, which copies the lessons into the learner's folder and never overwrites
a lesson they changed. Kernels shut down when their notebook is closed and are culled when idle (the same
settings as Binder, from binder/); servers idle for an hour are stopped by jupyterhub-idle-culler.

Budgets (measured: README "For instructors"): a lesson's kernel peaks under 1.5 GB and idles under 320 MB, its
server adds ~80 MB, so 2 GB per learner fits; one CPU per learner runs every lesson well inside 60 s.
Run: WORKSHOP_PASSWORD=... /opt/simplex-edu/.venv/bin/jupyterhub -f /opt/simplex-edu/workshop/jupyterhub_config.py
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

PREFIX = sys.prefix  # the venv install.sh made, with the course, JupyterLab and the hub in it
MEMORY_LIMIT = "2G"  # like a Binder pod: a lesson's peak (<= 1.5 GB) plus its server
CPU_LIMIT = 1.0  # one core per learner: the lessons' tiny models gain nothing from a second thread
SERVER_IDLE_S = 3600  # stop a learner's server after an hour without activity (their files stay)
KERNEL_IDLE_S = 900  # cull a kernel idle for 15 minutes with no notebook open on it

c.JupyterHub.bind_url = os.environ.get("WORKSHOP_BIND_URL", "http://:8000")  # put TLS (e.g. Caddy) in front
c.JupyterHub.cleanup_servers = True

# One shared password handed out in the room; any user name. Choose it when starting the hub.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.get("WORKSHOP_PASSWORD", "")
c.SharedPasswordAuthenticator.admin_password = os.environ.get("WORKSHOP_ADMIN_PASSWORD", "")
c.Authenticator.admin_users = {os.environ.get("WORKSHOP_ADMIN", "instructor")}
c.Authenticator.allow_all = True

# Learners need no system accounts: systemd makes a throwaway user per learner, with a persistent home.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
c.SystemdSpawner.unit_extra_properties = {"TasksMax": "256"}
c.Spawner.mem_limit = MEMORY_LIMIT
c.Spawner.cpu_limit = CPU_LIMIT
c.Spawner.start_timeout = 120
c.Spawner.default_url = "/lab/tree/simplex-edu-lessons"
c.Spawner.cmd = ["/bin/sh", "-c", f'"{PREFIX}/bin/simplex-edu" start --no-open simplex-edu-lessons >/dev/null '
                 f'&& exec "{PREFIX}/bin/jupyterhub-singleuser" "$@"', "--"]
c.Spawner.args = [f"--MappingKernelManager.cull_idle_timeout={KERNEL_IDLE_S}",
                  "--MappingKernelManager.cull_interval=60", "--MappingKernelManager.cull_connected=False"]
c.Spawner.environment = {"PATH": f"{PREFIX}/bin:/usr/bin:/bin"}  # and no thread variables: the course sets them

# Stop servers idle for an hour; their kernels were culled long before.
c.JupyterHub.services = [{"name": "idle-culler",
                          "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={SERVER_IDLE_S}"]}]
c.JupyterHub.load_roles = [{"name": "idle-culler", "services": ["idle-culler"],
                            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]}]
