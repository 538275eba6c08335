"""The layering contract (pyproject.toml, run by `make lint`) covers every module of
`labelhub`: each is in its composition root (top layer) or its core (bottom layer), so a
new module cannot sit outside the contract unnoticed."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_labelhub_module_is_in_a_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name.strip() for layer in (layers[0], layers[-1]) for name in layer.split(":")}
    modules = {
        f"labelhub.{path.stem}"
        for path in (ROOT / "labelhub").glob("*.py")
        if path.stem != "__init__"
    }
    assert modules - named == set(), "add these to a labelhub layer in pyproject.toml"
    assert named - modules == set(), "these layer names are no module"


def test_every_split_app_module_is_in_a_layer():
    """``tasks`` and ``projects`` are split between two layers (their detail endpoints sit
    above ``annotations``), so each of their modules is named: a new one must be placed."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name.strip() for layer in layers for name in layer.split(":")}
    for app in ("tasks", "projects"):
        modules = {
            f"{app}.{path.stem}"
            for path in (ROOT / app).iterdir()
            if path.name != "__init__.py"
            and (path.suffix == ".py" or (path / "__init__.py").exists())
        }
        assert modules - named == set(), "add these to a layer in pyproject.toml"
