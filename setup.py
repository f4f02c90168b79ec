"""Packaging beside pyproject.toml: the default configuration folder config/ ships as the package data of
`branchbot_config`, which pyproject's declarative tables cannot map (a folder under another name)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bot*", "schedules*", "storage*", "loopback*"]) + ["branchbot_config"],
    package_dir={"branchbot_config": "config"},
    package_data={
        "branchbot_config": ["*.yaml", "*.md", "*/*.yaml", "*/*.md", "*/*.csv", "*/*.xlsx"],
        "storage": ["migrations/*.ini", "migrations/*.mako", "migrations/versions/*.py"],
        "bot": ["sandbox/static/*"],
        "loopback": ["api.json", "LICENSE"],
    },
)
