"""Real data sets for bench/active_learning.py: human-written text found on this machine
(Debian, its man pages, the Python packages in the venv) and scikit-learn's handwritten
digits. Nothing here is generated; bench/README.md says where each set comes from.

Each loader returns (texts or feature rows, labels, classes) with at most ``per_class``
items per class (a seeded draw), duplicates of the same text dropped (the same
description under two names would sit in both pool and test).
"""

from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PER_CLASS = 400

# Debian sections whose packages say what they do in their own words (not "libs",
# "libdevel", language runtimes or "doc", whose one-liners name a language or a
# library): eight classes, as in the hidden set.
DEBIAN_SECTIONS = ("admin", "games", "graphics", "math", "net", "science", "sound", "text")
MAN_SECTIONS = ("1", "2", "3", "5", "7", "8")
# Packages of the bench's own venv, by what they are for.
DOC_PACKAGES = ("numpy", "scipy", "sympy", "networkx", "django", "sklearn", "PIL", "pygments")


def _capped(by_class: dict[str, list[str]], per_class: int, seed: int = 0):
    rng = random.Random(seed)
    texts, labels = [], []
    for label in sorted(by_class):
        items = sorted(set(by_class[label]))
        rng.shuffle(items)
        for text in items[:per_class]:
            texts.append(text)
            labels.append(label)
    # The same text under two classes is dropped from both: no one could label it.
    seen: dict[str, set] = defaultdict(set)
    for text, label in zip(texts, labels, strict=True):
        seen[text].add(label)
    keep = [i for i, t in enumerate(texts) if len(seen[t]) == 1]
    return [texts[i] for i in keep], [labels[i] for i in keep]


def debian(per_class: int = PER_CLASS):
    """Debian package synopses (the first line of ``Description:``) by ``Section:``, from
    ``apt-cache dumpavail`` (Debian 12 main, the apt lists of this machine), eight
    sections. Package names are not part of the text."""
    dump = subprocess.run(
        ["apt-cache", "dumpavail"], capture_output=True, text=True, check=True
    ).stdout
    by_class: dict[str, list[str]] = defaultdict(list)
    for paragraph in dump.split("\n\n"):
        fields = {}
        for line in paragraph.splitlines():
            if line and not line[0].isspace() and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        section = fields.get("Section", "").rpartition("/")[2]
        synopsis = fields.get("Description", "")
        if section in DEBIAN_SECTIONS and len(synopsis.split()) >= 2:
            by_class[section].append(synopsis)
    return _capped(by_class, per_class)


_WHATIS = re.compile(r"^(?P<names>.+?) \((?P<section>[0-9][a-z]*)\)\s+- (?P<text>.+)$")


def man(per_class: int = PER_CLASS):
    """Man pages' one-line descriptions (the NAME line's text after the dash, from
    ``apropos -s N .``, the man-db index of the pages installed here) by section: 1 user
    commands, 2 system calls, 3 library functions, 5 file formats, 7 overviews and
    conventions, 8 administration. The page's name is not part of the text."""
    by_class: dict[str, list[str]] = defaultdict(list)
    for section in MAN_SECTIONS:
        out = subprocess.run(
            ["apropos", "-s", section, "."], capture_output=True, text=True, check=False
        ).stdout
        for line in out.splitlines():
            match = _WHATIS.match(line.strip())
            if match and len(match["text"].split()) >= 2:
                by_class[section].append(match["text"].strip())
    return _capped(by_class, per_class)


def _first_paragraph(doc: str) -> str:
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(paragraph.split())


def docstrings(per_class: int = PER_CLASS):
    """The first paragraph of the docstrings of functions and classes (read with ``ast``
    from the source, nothing imported) by package, for eight packages of the venv
    (numpy, scipy, sympy, networkx, django, scikit-learn, Pillow, Pygments). Test
    modules are skipped; 4 to 80 words; the package's own name is blanked out."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    by_class: dict[str, list[str]] = defaultdict(list)
    for package in DOC_PACKAGES:
        root = site / package
        names = re.compile(rf"\b({package}|{package.lower()}|sklearn|scikit-learn)\b", re.I)
        found: list[str] = []
        for path in sorted(root.rglob("*.py")):
            if "test" in path.name or "/tests/" in str(path) or "/testing/" in str(path):
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                    continue
                if node.name.startswith("_"):
                    continue
                doc = ast.get_docstring(node)
                if not doc:
                    continue
                text = names.sub(" ", _first_paragraph(doc))
                if 4 <= len(text.split()) <= 80:
                    found.append(text)
            if len(set(found)) >= per_class * 3:
                break
        by_class[package.lower()] = found
    return _capped(by_class, per_class)


def digits():
    """scikit-learn's bundled handwritten digits (UCI optdigits: 8x8 images written by
    43 people), 1,797 images, 10 classes; as 32x32 PNGs through the image model's own
    feature code, as uploads are."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images * (255 / 16)).astype("uint8")
    return images, [str(int(t)) for t in data.target]


TEXT_SETS = {"debian": debian, "man": man, "docstrings": docstrings}
