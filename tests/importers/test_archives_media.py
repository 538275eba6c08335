"""ZIP and RAR archives (with their bomb and path limits) and media files served to members."""

import io
import struct
import zipfile
import zlib

import pytest

from tasks.models import Task
from tests.factories import (
    HTML_CONFIG,
    TWO_IMAGES_CONFIG,
    assert_nothing_written,
    task_data,
    upload,
)

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def make_zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buffer.getvalue()


def make_rar(members: dict[str, bytes]) -> bytes:
    """A RAR 4 archive with stored members (no rar packer is needed to build one)."""

    def block(kind: int, flags: int, body: bytes, payload: bytes = b"") -> bytes:
        header = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(header) & 0xFFFF) + header + payload

    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, struct.pack("<HI", 0, 0))
    for name, data in members.items():
        raw = name.encode()
        body = (
            struct.pack(
                "<IIBIIBBHI",
                len(data),
                len(data),
                3,
                zlib.crc32(data),
                0x5A000000,
                20,
                0x30,
                len(raw),
                0x20,
            )
            + raw
        )
        out += block(0x74, 0x8000, body, data)
    return out + block(0x7B, 0x4000, b"")


def test_zip_of_task_files(api, project):
    content = make_zip(
        {
            "a.json": b'[{"text": "a"}]',
            "sub/b.csv": b"text\nb\n",
            "c.txt": b"c\n",
            "README.md": b"skipped",
        }
    )
    response = upload(api, project, "tasks.zip", content)
    assert response.status_code == 201, response.content
    assert sorted(d["text"] for d in task_data(project)) == ["a", "b", "c"]


def test_rar_of_task_files(api, project):
    response = upload(
        api,
        project,
        "tasks.rar",
        make_rar({"a.json": b'[{"text": "from rar"}]', "dir/b.txt": b"line\n"}),
    )
    assert response.status_code == 201, response.content
    assert sorted(d["text"] for d in task_data(project)) == ["from rar", "line"]


def test_zip_of_images_makes_one_task_per_image(api, image_project, owner):
    response = upload(api, image_project, "images.zip", make_zip({"a.png": PNG, "b/c.png": PNG}))
    assert response.status_code == 201, response.content
    urls = [d["image"] for d in task_data(image_project)]
    assert len(urls) == 2 and all(u.startswith(f"/data/upload/{image_project.pk}/") for u in urls)
    assert api.get(urls[0]).status_code == 200


def test_zip_bomb_is_refused(api, project):
    bomb = make_zip({"big.txt": b"a\n" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    response = upload(api, project, "bomb.zip", bomb)
    assert response.status_code == 400
    assert "bomb" in response.json()["detail"]
    assert_nothing_written(project)


def test_zip_over_the_total_size_limit(api, project, settings):
    settings.LABELHUB_ARCHIVE_MAX_SIZE = 1000
    response = upload(
        api, project, "a.zip", make_zip({"a.txt": b"x\n" * 600}, compression=zipfile.ZIP_STORED)
    )
    assert response.status_code == 400 and "limit" in response.json()["detail"]


def test_zip_with_too_many_files(api, project, settings):
    settings.LABELHUB_ARCHIVE_MAX_FILES = 3
    response = upload(api, project, "a.zip", make_zip({f"{i}.txt": b"x\n" for i in range(4)}))
    assert response.status_code == 400 and "4 files" in response.json()["detail"]


@pytest.mark.parametrize(
    "name", ["../evil.json", "a/../../evil.json", "/etc/evil.json", "..\\evil.json", "C:/evil.json"]
)
def test_zip_member_escaping_the_folder_is_refused(api, project, name, settings):
    response = upload(
        api,
        project,
        "evil.zip",
        make_zip({"ok.json": b'[{"text": "a"}]', name: b'[{"text": "b"}]'}),
    )
    assert response.status_code == 400, response.content
    assert name in response.json()["detail"]
    assert_nothing_written(project)
    assert not (settings.DATA_DIR / "evil.json").exists()


def test_zip_that_lies_about_its_sizes(api, project):
    data = bytearray(make_zip({"a.txt": b"x\n" * 5000}, compression=zipfile.ZIP_STORED))
    # Shrink the declared size in the central directory: the real data is larger.
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)
    response = upload(api, project, "liar.zip", bytes(data))
    assert response.status_code == 400
    assert_nothing_written(project)


def test_broken_archive(api, project):
    response = upload(api, project, "broken.zip", b"PK\x03\x04 not really")
    assert response.status_code == 400 and "archive" in response.json()["detail"]


# --------------------------------------------------------------------------- media


def test_image_upload_is_stored_and_served_to_members_only(
    api, client_for, annotator, outsider, image_project
):
    from projects.models import ProjectMember
    from projects.services import member_set

    member_set(project=image_project, user=annotator, role=ProjectMember.Role.ANNOTATOR)
    response = upload(api, image_project, "cat photo.png", PNG)
    assert response.status_code == 201, response.content
    task = Task.objects.get(project=image_project)
    url = task.data["image"]
    assert url.startswith(f"/data/upload/{image_project.pk}/") and url.endswith("-cat_photo.png")
    assert task.meta == {"file": "cat photo.png"}
    served = client_for(annotator).get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png"
    assert "sandbox" in served["Content-Security-Policy"]
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code in (401, 403)


@pytest.mark.parametrize(
    "name", ["..%2F..%2Fsecret_key", "%2e%2e", "..", "x/../../secret_key", ".hidden"]
)
def test_media_path_traversal_is_404(api, image_project, name):
    upload(api, image_project, "a.png", PNG)
    response = api.get(f"/data/upload/{image_project.pk}/{name}")
    assert response.status_code == 404


def test_media_of_another_project_is_404(api, image_project, make_project):
    from tests.factories import IMAGE_CONFIG

    upload(api, image_project, "a.png", PNG)
    other = make_project(IMAGE_CONFIG, "other")
    name = Task.objects.get(project=image_project).data["image"].rsplit("/", 1)[-1]
    assert api.get(f"/data/upload/{other.pk}/{name}").status_code == 404


def test_html_is_sanitized(api, make_project):
    project = make_project(HTML_CONFIG)
    html = b'<p onclick="steal()">Hi<script>alert(1)</script><a href="javascript:evil()">x</a><img src=x onerror=boom></p>'
    response = upload(api, project, "page.html", html)
    assert response.status_code == 201, response.content
    served = b"".join(api.get(Task.objects.get(project=project).data["page"]).streaming_content)
    assert b"Hi" in served
    for bad in (b"script", b"onclick", b"javascript:", b"onerror"):
        assert bad not in served


def test_media_without_a_matching_object_tag_take_the_first_data_key(api, project):
    """As in Label Studio: an image uploaded into a text project goes under the config's
    first data key (it has no <Image> to fill)."""
    response = upload(api, project, "a.png", PNG)
    assert response.status_code == 201, response.content
    (data,) = Task.objects.filter(project=project).values_list("data", flat=True)
    assert list(data) == ["text"] and data["text"].startswith("/data/upload/")


def test_media_with_several_candidate_tags_says_so(api, make_project):
    project = make_project(TWO_IMAGES_CONFIG)
    response = upload(api, project, "a.png", PNG)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "several" in detail and '"left"' in detail and '"right"' in detail


def test_failed_import_removes_the_media_it_stored(api, image_project, settings):
    content = make_zip({"a.png": PNG, "b.json": b'[{"nope": 1}]'})
    response = upload(api, image_project, "mixed.zip", content)
    assert response.status_code == 400
    folder = settings.MEDIA_ROOT / "upload" / str(image_project.pk)
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize(
    "name, key", [("a.mp4", "video"), ("a.wav", "audio"), ("a.pdf", "pdf"), ("a.jpg", "image")]
)
def test_each_media_type_goes_to_its_tag(api, media_project, name, key):
    response = upload(api, media_project, name, b"\x00media bytes")
    assert response.status_code == 201, response.content
    assert list(task_data(media_project)[0]) == [key]
