#!/usr/bin/env bash
# Set up a workshop VM (Debian/Ubuntu, as root) from a checkout of simplex-edu: the course, JupyterLab, the hub.
#   sudo bash workshop/install.sh        then start the hub as workshop/jupyterhub_config.py says
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/opt/simplex-edu
apt-get install -y python3-venv
mkdir -p "$prefix"
mkdir -p "$prefix/course" && tar --exclude=./.venv --exclude=./.git -cf - . | tar -xf - -C "$prefix/course"
python3 -m venv "$prefix/.venv"
"$prefix/.venv/bin/pip" install -c constraints.txt -e "$prefix/course[hub]" jupyterhub-systemdspawner
# The Binder settings for every learner's server: a kernel shuts down when its notebook closes, idle ones are culled.
mkdir -p "$prefix/.venv/etc/jupyter/jupyter_server_config.d" "$prefix/.venv/share/jupyter/lab/settings"
cp binder/jupyter_server_config.json "$prefix/.venv/etc/jupyter/jupyter_server_config.d/simplex-edu.json"
cp binder/overrides.json "$prefix/.venv/share/jupyter/lab/settings/overrides.json"
mkdir -p "$prefix/workshop" && cp workshop/jupyterhub_config.py "$prefix/workshop/"
echo "installed in $prefix; start: WORKSHOP_PASSWORD=... $prefix/.venv/bin/jupyterhub -f $prefix/workshop/jupyterhub_config.py"
