"""``labelhub init`` / ``labelhub import`` for every input format, and local-file serving."""

import os

import orjson
import pytest

from labelhub.cli import main
from projects.models import Project
from tasks.models import Task
from tests.factories import AUDIO_CONFIG, IMAGE_CONFIG, TEXT_CONFIG

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n fake"


@pytest.fixture
def configs(tmp_path):
    paths = {}
    for name, text in (("text", TEXT_CONFIG), ("image", IMAGE_CONFIG), ("audio", AUDIO_CONFIG)):
        paths[name] = tmp_path / f"{name}.xml"
        paths[name].write_text(text)
    return paths


@pytest.fixture
def files(tmp_path):
    root = tmp_path / "input"
    root.mkdir()
    (root / "tasks.json").write_bytes(orjson.dumps([{"text": "j1"}, {"data": {"text": "j2"}}]))
    (root / "tasks.jsonl").write_bytes(b'{"text": "l1"}\n{"text": "l2"}\n')
    (root / "tasks.csv").write_bytes(b"text,n\nc1,1\nc2,2\n")
    (root / "tasks.tsv").write_bytes(b"text\tn\nt1\t1\nt2\t2\n")
    (root / "lines.txt").write_bytes(b"x1\nx2\n")
    jsons = root / "jsons"
    jsons.mkdir()
    (jsons / "a.json").write_bytes(b'[{"text": "d1"}]')
    (jsons / "b.json").write_bytes(b'{"text": "d2"}')
    texts = root / "texts"
    texts.mkdir()
    (texts / "one.txt").write_text("first document\nwith two lines")
    (texts / "two.txt").write_text("second document")
    for kind, ext in (("images", "png"), ("audio", "wav")):
        folder = root / kind
        folder.mkdir()
        for i in range(2):
            (folder / f"{i}.{ext}").write_bytes(PNG)
    return root


def texts(project) -> list[str]:
    return [
        d["text"]
        for d in Task.objects.filter(project=project).order_by("id").values_list("data", flat=True)
    ]


@pytest.mark.parametrize(
    "fmt, path, expected",
    [
        ("json", "tasks.json", ["j1", "j2"]),
        ("jsonl", "tasks.jsonl", ["l1", "l2"]),
        ("csv", "tasks.csv", ["c1", "c2"]),
        ("tsv", "tasks.tsv", ["t1", "t2"]),
        ("text", "lines.txt", ["x1", "x2"]),
        ("json-dir", "jsons", ["d1", "d2"]),
        ("text-dir", "texts", ["first document\nwith two lines", "second document"]),
    ],
)
def test_init_with_each_text_format(staff, configs, files, fmt, path, expected, capsys):
    code = main(
        [
            "init",
            f"cli {fmt}",
            "--input-path",
            str(files / path),
            "--input-format",
            fmt,
            "--label-config",
            str(configs["text"]),
            "--sampling",
            "uniform",
        ]
    )
    assert code == 0, capsys.readouterr()
    project = Project.objects.get(title=f"cli {fmt}")
    assert project.sampling == "uniform"
    assert texts(project) == expected
    out = capsys.readouterr()
    assert f"Imported {len(expected)} tasks" in out.out
    assert "100%" in out.err  # the progress bar


def test_format_is_guessed_from_the_path(staff, configs, files, capsys):
    assert (
        main(
            [
                "init",
                "guessed",
                "--input-path",
                str(files / "tasks.csv"),
                "--label-config",
                str(configs["text"]),
            ]
        )
        == 0
    )
    assert texts(Project.objects.get(title="guessed")) == ["c1", "c2"]


@pytest.mark.parametrize(
    "fmt, folder, config, key",
    [("image-dir", "images", "image", "image"), ("audio-dir", "audio", "audio", "audio")],
)
def test_media_folders_point_at_local_files(
    staff, configs, files, settings, fmt, folder, config, key, capsys
):
    settings.LABELHUB_LOCAL_FILES_ROOT = str(files)
    code = main(
        [
            "init",
            fmt,
            "--input-path",
            str(files / folder),
            "--input-format",
            fmt,
            "--label-config",
            str(configs[config]),
        ]
    )
    assert code == 0, capsys.readouterr()
    urls = [t.data[key] for t in Task.objects.filter(project__title=fmt).order_by("id")]
    assert urls == [
        f"/data/local-files/?d={folder}/0.{'png' if folder == 'images' else 'wav'}",
        f"/data/local-files/?d={folder}/1.{'png' if folder == 'images' else 'wav'}",
    ]


def test_media_folder_outside_the_root_is_refused(staff, configs, files, settings, tmp_path):
    settings.LABELHUB_LOCAL_FILES_ROOT = str(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(SystemExit, match="not under LABELHUB_LOCAL_FILES_ROOT"):
        main(
            [
                "init",
                "x",
                "--input-path",
                str(files / "images"),
                "--input-format",
                "image-dir",
                "--label-config",
                str(configs["image"]),
            ]
        )
    settings.LABELHUB_LOCAL_FILES_ROOT = ""
    with pytest.raises(SystemExit, match="Set LABELHUB_LOCAL_FILES_ROOT"):
        main(
            [
                "init",
                "y",
                "--input-path",
                str(files / "images"),
                "--input-format",
                "image-dir",
                "--label-config",
                str(configs["image"]),
            ]
        )


def test_import_into_an_existing_project(staff, configs, files, capsys):
    main(["init", "existing", "--label-config", str(configs["text"])])
    project = Project.objects.get(title="existing")
    assert main(["import", str(project.pk), str(files / "tasks.jsonl"), "--no-progress"]) == 0
    assert texts(project) == ["l1", "l2"]
    assert "100%" not in capsys.readouterr().err


def test_bad_input_fails_cleanly(staff, configs, files, capsys):
    main(["init", "bad", "--label-config", str(configs["text"])])
    project = Project.objects.get(title="bad")
    (files / "bad.json").write_bytes(b'[{"text": "ok"}, {"oops": 1}]')
    assert main(["import", str(project.pk), str(files / "bad.json")]) == 1
    assert "record 1" in capsys.readouterr().err
    assert not Task.objects.filter(project=project).exists()
    assert main(["import", str(project.pk), str(files / "missing.json")]) == 1
    assert main(["import", "999999", str(files / "tasks.json")]) == 1


# --------------------------------------------------------------------------- serving


@pytest.fixture
def served(settings, tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(root / "sub" / "a.png", root / "inside.png")
    settings.LABELHUB_LOCAL_FILES_ROOT = str(root)
    settings.LABELHUB_ALLOW_SERVING_LOCAL_FILES = True
    return root


def _point_tasks_at(project, owner, *paths):
    from importers.services import tasks_import

    tasks_import(
        project=project,
        records=[{"text": f"/data/local-files/?d={path}"} for path in paths],
        user=owner,
    )


def test_local_file_is_served_from_under_the_root(api, served, project, owner):
    _point_tasks_at(project, owner, "sub/a.png", "inside.png")
    response = api.get("/data/local-files/?d=sub/a.png")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert api.get("/data/local-files/?d=inside.png").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "d=../secret.txt",
        "d=sub/../../secret.txt",
        "d=escape.txt",
        "d=%2e%2e%2fsecret.txt",
        "d=%252e%252e%252fsecret.txt",
        "d=/etc/passwd",
        "d=sub",
        "d=",
        "d=nothing.png",
        "d=sub/a.png%00.txt",
    ],
)
def test_escapes_are_404(api, served, query):
    assert api.get(f"/data/local-files/?{query}").status_code == 404


def test_local_files_only_for_members_of_a_project_that_names_them(
    client_for, served, project, owner, annotator, outsider, staff
):
    """#12 finding 9: not to any signed-in user, whatever their projects."""
    assert client_for(annotator).get("/data/local-files/?d=sub/a.png").status_code == 404
    assert client_for(staff).get("/data/local-files/?d=sub/a.png").status_code == 200
    _point_tasks_at(project, owner, "sub/a.png")
    assert client_for(annotator).get("/data/local-files/?d=sub/a.png").status_code == 200
    assert client_for(outsider).get("/data/local-files/?d=sub/a.png").status_code == 404


def test_local_files_need_the_switch_and_a_user(api, client_for, served, settings):
    assert client_for(None).get("/data/local-files/?d=sub/a.png").status_code in (401, 403)
    settings.LABELHUB_ALLOW_SERVING_LOCAL_FILES = False
    off = api.get("/data/local-files/?d=sub/a.png")  # Label Studio's 403, saying why
    assert off.status_code == 403 and "LABELHUB_ALLOW_SERVING_LOCAL_FILES" in off.json()["detail"]


def test_local_files_root_unset_serves_nothing(api, served, settings):
    settings.LABELHUB_LOCAL_FILES_ROOT = ""
    assert api.get("/data/local-files/?d=sub/a.png").status_code == 404
