"""The course's public home, in one place: every badge, launch link and Colab install line is made from it.

Change ``REPOSITORY`` (and ``[project.urls]`` in pyproject.toml, which a test holds to it), then run
``simplex-edu build --links`` to rewrite every notebook's launch links and setup cell, and update the README's
badges to ``readme_badges()`` (a test says when they differ).
"""

from __future__ import annotations

REPOSITORY = "github.com/simplex-edu/simplex-edu"
BRANCH = "main"

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def repository_url() -> str:
    """The repository's web address."""
    return f"https://{REPOSITORY}"


def _owner_and_name() -> str:
    return REPOSITORY.split("/", 1)[1]


def colab_url(path: str) -> str:
    """Open the repository's notebook at ``path`` (e.g. ``lessons/00_welcome.ipynb``) in Google Colab."""
    return f"https://colab.research.google.com/github/{_owner_and_name()}/blob/{BRANCH}/{path}"


def binder_url(path: str) -> str:
    """Start a Binder session of the repository with JupyterLab opened at ``path`` (a file or a folder)."""
    return f"https://mybinder.org/v2/gh/{_owner_and_name()}/{BRANCH}?urlpath=lab/tree/{path}"


def pip_requirement() -> str:
    """What ``pip install`` takes to install the course package straight from the repository."""
    return f"simplex-edu @ git+{repository_url()}"


def readme_badges() -> str:
    """The README's first lines after its title: Binder on the lessons folder, Colab on lesson 00."""
    return (f"[![Binder]({BINDER_BADGE})]({binder_url('lessons')})\n"
            f"[![Open In Colab]({COLAB_BADGE})]({colab_url('lessons/00_welcome.ipynb')})")
