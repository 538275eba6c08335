"""Builders shared by the tests: label configs, results, Data Manager queries, uploads
and exports. Plain functions and constants; the fixtures stay in the conftest files."""

import io
import random
import socket
import zipfile
from pathlib import Path

from tasks.models import Task

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/>
  </Choices>
</View>"""


IMAGE_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Cat"/><Label value="Dog"/>
  </RectangleLabels>
</View>"""


def choice(value: str, *, result_id: str = "r1") -> list[dict]:
    return [
        {
            "id": result_id,
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


def box(label: str, *, rid: str = "b1", x: float = 10) -> dict:
    return {
        "id": rid,
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 100,
        "original_height": 100,
        "value": {
            "x": x,
            "y": 10,
            "width": 20,
            "height": 20,
            "rotation": 0,
            "rectanglelabels": [label],
        },
    }


def item(column: str, operator: str, value=None, type_: str = "String") -> dict:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": type_, "value": value}


def query(*items, conjunction: str = "and", ordering=None, selected=None) -> dict:
    body: dict = {"filters": {"conjunction": conjunction, "items": list(items)}}
    if ordering:
        body["ordering"] = ordering
    if selected is not None:
        body["selectedItems"] = selected
    return body


def export_bytes(api, project, **params) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api.get(f"/api/projects/{project.pk}/export?{query}")
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


def unzip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


AUDIO_CONFIG = """<View><Audio name="audio" value="$audio"/>
  <Choices name="kind" toName="audio"><Choice value="Speech"/><Choice value="Music"/></Choices></View>"""


HTML_CONFIG = """<View><HyperText name="page" value="$page"/>
  <Choices name="kind" toName="page"><Choice value="Spam"/><Choice value="Ham"/></Choices></View>"""


TWO_IMAGES_CONFIG = """<View><Image name="left" value="$left"/><Image name="right" value="$right"/>
  <Choices name="same" toName="left"><Choice value="Yes"/><Choice value="No"/></Choices></View>"""


MEDIA_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Image name="group" valueList="$images"/>
  <Video name="video" value="$video"/>
  <Audio name="audio" value="$audio"/>
  <PDF name="pdf" value="$pdf"/>
  <Text name="text" value="$text"/>
  <Choices name="ok" toName="image"><Choice value="Yes"/><Choice value="No"/></Choices>
</View>"""


def import_url(project) -> str:
    return f"/api/projects/{project.pk}/import"


def upload(api, project, name: str, content: bytes, *, query: str = "", **extra):
    handle = io.BytesIO(content)
    handle.name = name
    return api.post(import_url(project) + query, {"file": handle, **extra}, format="multipart")


def upload_many(api, project, files: dict[str, bytes], *, query: str = ""):
    handles = []
    for name, content in files.items():
        handle = io.BytesIO(content)
        handle.name = name
        handles.append(handle)
    return api.post(import_url(project) + query, {"file": handles}, format="multipart")


def task_data(project) -> list[dict]:
    return list(Task.objects.filter(project=project).order_by("id").values_list("data", flat=True))


def assert_nothing_written(project):
    assert not Task.objects.filter(project=project).exists()
    project.refresh_from_db()
    assert project.task_number == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NER_CONFIG = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
</View>"""


IMAGE_CHOICES_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <Choices name="digit" toName="image">
    <Choice value="0"/><Choice value="1"/><Choice value="2"/>
  </Choices>
</View>"""


MULTI_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topics" toName="text" choice="multiple">
    <Choice value="sport"/><Choice value="money"/><Choice value="food"/>
  </Choices>
</View>"""


POSITIVE = ["great", "lovely", "excellent", "happy", "wonderful", "good", "superb", "nice"]


NEGATIVE = ["awful", "terrible", "bad", "sad", "horrible", "poor", "dreadful", "nasty"]


FILLER = ["the", "film", "was", "really", "quite", "a", "day", "food", "service", "it"]


def sentiment_text(rng: random.Random, label: str) -> str:
    words = rng.sample(FILLER, 4) + rng.sample(POSITIVE if label == "Positive" else NEGATIVE, 2)
    rng.shuffle(words)
    return " ".join(words)


def sentiment_choice(label: str) -> list[dict]:
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def app_sources(root: Path, *, skipped: set[str]) -> list[Path]:
    """The ``.py`` files of the repository's own packages (a top-level folder with an
    ``__init__.py``), minus any under a folder named in ``skipped``: never the venvs and
    caches beside them (``.cache/compat-venv`` holds a whole Python install, some of it
    not UTF-8)."""
    packages = sorted(init.parent for init in root.glob("*/__init__.py"))
    return [
        path
        for package in packages
        for path in package.rglob("*.py")
        if not skipped & set(path.relative_to(root).parts)
    ]
