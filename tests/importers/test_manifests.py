"""Encord-shaped cloud manifests, JSON and CSV."""

import orjson
import pytest

from tasks.models import Task
from tests.factories import IMAGE_CONFIG, MEDIA_CONFIG, assert_nothing_written, import_url, upload

pytestmark = pytest.mark.django_db

B = "https://bucket.example.com"

# Shaped like Encord's published multi-type example, which repeats "image_groups".
PUBLISHED_LIKE = f"""{{
  "videos": [
    {{"objectUrl": "{B}/video1.mp4"}},
    {{"objectUrl": "{B}/video2.mp4", "title": "my-custom-video-title.mp4",
      "clientMetadata": {{"optional": "metadata"}}}}
  ],
  "image_groups": [
    {{"title": "sequence-1", "createVideo": true,
      "objectUrl_0": "{B}/s1/0.jpg", "objectUrl_1": "{B}/s1/1.jpg", "objectUrl_2": "{B}/s1/2.jpg"}}
  ],
  "image_groups": [
    {{"title": "group-1", "createVideo": false,
      "objectUrl_0": "{B}/g1/0.jpg", "objectUrl_1": "{B}/g1/1.jpg"}}
  ],
  "images": [
    {{"objectUrl": "{B}/image1.jpg", "title": "image-1", "clientMetadata": {{"camera": "front", "rank": 3}}}}
  ],
  "dicom_series": [
    {{"title": "series-1", "objectUrl_0": "{B}/d/1.dcm", "objectUrl_1": "{B}/d/2.dcm"}}
  ],
  "skip_duplicate_urls": true
}}"""


@pytest.fixture
def media(make_project):
    return make_project(MEDIA_CONFIG, "media")


def post_manifest(api, project, text: str, **kwargs):
    return api.post(
        import_url(project), data=text.encode(), content_type="application/json", **kwargs
    )


def by_type(project) -> dict[str, list[Task]]:
    out: dict[str, list[Task]] = {}
    for task in Task.objects.filter(project=project).order_by("id"):
        out.setdefault(task.meta["manifest_type"], []).append(task)
    return out


def test_repeated_top_level_key_keeps_every_entry(api, media):
    response = post_manifest(api, media, PUBLISHED_LIKE)
    assert response.status_code == 201, response.content
    assert response.json()["task_count"] == 6
    tasks = by_type(media)
    assert [len(tasks[k]) for k in ("videos", "image_groups", "images", "dicom_series")] == [
        2,
        2,
        1,
        1,
    ]
    sequence, group = tasks["image_groups"]
    assert sequence.data == {"images": [f"{B}/s1/0.jpg", f"{B}/s1/1.jpg", f"{B}/s1/2.jpg"]}
    assert sequence.meta == {
        "manifest_type": "image_groups",
        "title": "sequence-1",
        "createVideo": True,
    }
    assert group.meta["createVideo"] is False and len(group.data["images"]) == 2


def test_urls_go_under_the_object_key_and_metadata_into_meta(api, media):
    post_manifest(api, media, PUBLISHED_LIKE)
    image = by_type(media)["images"][0]
    assert image.data == {"image": f"{B}/image1.jpg"}
    assert image.meta == {
        "manifest_type": "images",
        "title": "image-1",
        "clientMetadata": {"camera": "front", "rank": 3},
    }
    video = by_type(media)["videos"][1]
    assert (
        video.data == {"video": f"{B}/video2.mp4"}
        and video.meta["title"] == "my-custom-video-title.mp4"
    )
    # meta is filterable: the Data Manager reads it through the JSON field
    assert Task.objects.filter(project=media, meta__clientMetadata__camera="front").count() == 1


def test_numbered_urls_keep_numeric_order(api, media):
    entry = {f"objectUrl_{i}": f"{B}/{i}.jpg" for i in (10, 2, 0, 1)}
    response = post_manifest(
        api, media, orjson.dumps({"image_groups": [{"title": "g", **entry}]}).decode()
    )
    assert response.status_code == 201
    assert Task.objects.get(project=media).data["images"] == [f"{B}/{i}.jpg" for i in (0, 1, 2, 10)]


@pytest.mark.parametrize(
    "kind, key, entry",
    [
        ("images", "image", {"objectUrl": f"{B}/a.jpg"}),
        ("videos", "video", {"objectUrl": f"{B}/a.mp4"}),
        ("audio", "audio", {"objectUrl": f"{B}/a.mp3"}),
        ("pdfs", "pdf", {"objectUrl": f"{B}/a.pdf"}),
        ("text", "text", {"objectUrl": f"{B}/a.txt"}),
        ("nifti", "image", {"objectUrl": f"{B}/a.nii.gz"}),
        ("dicom_series", "images", {"title": "s", "objectUrl_0": f"{B}/1.dcm"}),
        ("image_groups", "images", {"title": "g", "objectUrl_0": f"{B}/1.jpg"}),
    ],
)
def test_each_manifest_kind(api, media, kind, key, entry):
    response = post_manifest(api, media, orjson.dumps({kind: [entry]}).decode())
    assert response.status_code == 201, response.content
    assert list(Task.objects.get(project=media).data) == [key]


def test_manifest_as_an_uploaded_file(api, media):
    response = upload(api, media, "manifest.json", PUBLISHED_LIKE.encode())
    assert response.status_code == 201 and response.json()["task_count"] == 6


def test_trailing_commas_are_an_error_with_line_and_column(api, media):
    text = '{\n  "images": [\n    {"objectUrl": "https://x/a.jpg"},\n  ]\n}'
    response = post_manifest(api, media, text)
    assert response.status_code == 400
    body = response.json()
    assert "trailing comma" in body["detail"]
    assert body["errors"][0]["line"] == 4 and body["errors"][0]["column"] == 3
    assert_nothing_written(media)


def test_invalid_manifest_json_names_line_and_column(api, media):
    response = post_manifest(api, media, '{\n  "images": [\n    {"objectUrl": https://x}\n  ]\n}')
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["line"], error["column"]) == (3, 19)


def test_skip_duplicate_urls(api, media):
    assert post_manifest(api, media, PUBLISHED_LIKE).json()["task_count"] == 6
    again = orjson.loads(
        PUBLISHED_LIKE.replace(
            '"image_groups": [\n    {"title": "group-1"', '"x": [\n    {"title": "group-1"'
        )
    )
    again.pop("x", None)
    again["images"].append({"objectUrl": f"{B}/new.jpg"})
    again["images"].append({"objectUrl": f"{B}/new.jpg"})  # a duplicate inside the manifest too
    response = post_manifest(api, media, orjson.dumps(again).decode())
    assert response.status_code == 201, response.content
    assert response.json()["task_count"] == 1 and response.json()["skipped_count"] >= 5
    assert Task.objects.filter(project=media).count() == 7


def test_without_skip_duplicates_are_imported(api, media):
    text = orjson.dumps({"images": [{"objectUrl": f"{B}/a.jpg"}]}).decode()
    post_manifest(api, media, text)
    assert post_manifest(api, media, text).json()["task_count"] == 1
    assert Task.objects.filter(project=media).count() == 2


def test_all_duplicates_is_a_success_with_nothing_new(api, media):
    text = orjson.dumps(
        {"images": [{"objectUrl": f"{B}/a.jpg"}], "skip_duplicate_urls": True}
    ).decode()
    post_manifest(api, media, text)
    response = post_manifest(api, media, text)
    assert response.status_code == 201 and response.json()["task_count"] == 0
    assert response.json()["skipped_count"] == 1


def test_manifest_kind_without_a_tag(api, project):
    response = post_manifest(
        api, project, orjson.dumps({"videos": [{"objectUrl": f"{B}/a.mp4"}]}).decode()
    )
    assert response.status_code == 400 and "<Video>" in response.json()["detail"]


def test_manifest_entry_without_url(api, media):
    response = post_manifest(api, media, orjson.dumps({"images": [{"title": "no url"}]}).decode())
    assert response.status_code == 400 and "objectUrl" in response.json()["detail"]


# --------------------------------------------------------------------------- CSV


CSV_MANIFEST = f"""ObjectUrl,Image title
{B}/a.jpg,Image A
{B}/b.jpg,
OBJECTURL,VIDEO TITLE
{B}/v.mp4,Video V
objecturl,image group title,create video
{B}/g/0.jpg,Group G,false
{B}/g/1.jpg,Group G,false
{B}/h/0.jpg,Group H,true
ObjectUrl,Series title
{B}/d/1.dcm,Series S
{B}/d/2.dcm,Series S
"""


def test_csv_manifest_switches_type_at_each_header(api, media):
    response = upload(api, media, "manifest.csv", CSV_MANIFEST.encode())
    assert response.status_code == 201, response.content
    assert response.json()["task_count"] == 6
    tasks = by_type(media)
    assert [t.data["image"] for t in tasks["images"]] == [f"{B}/a.jpg", f"{B}/b.jpg"]
    assert tasks["images"][0].meta["title"] == "Image A" and "title" not in tasks["images"][1].meta
    assert tasks["videos"][0].data == {"video": f"{B}/v.mp4"}
    group_g, group_h = tasks["image_groups"]
    assert (
        group_g.data["images"] == [f"{B}/g/0.jpg", f"{B}/g/1.jpg"]
        and group_g.meta["createVideo"] is False
    )
    assert group_h.meta == {
        "manifest_type": "image_groups",
        "title": "Group H",
        "createVideo": True,
    }
    assert tasks["dicom_series"][0].data["images"] == [f"{B}/d/1.dcm", f"{B}/d/2.dcm"]


def test_csv_manifest_without_title_column_infers_type_from_extension(api, media):
    response = upload(api, media, "m.csv", f"ObjectUrl\n{B}/a.png\n{B}/b.mp4\n".encode())
    assert response.status_code == 201
    assert sorted(t.meta["manifest_type"] for t in Task.objects.filter(project=media)) == [
        "images",
        "videos",
    ]


def test_csv_manifest_group_row_without_title(api, media):
    response = upload(api, media, "m.csv", f"ObjectUrl,Image group title\n{B}/a.png,\n".encode())
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 2


def test_csv_manifest_skip_duplicates_by_query_flag(api, make_project):
    project = make_project(IMAGE_CONFIG)
    content = f"ObjectUrl,Image title\n{B}/a.png,A\n".encode()
    upload(api, project, "m.csv", content)
    response = upload(api, project, "m.csv", content, query="?skip_duplicate_urls=true")
    assert response.status_code == 201 and response.json()["task_count"] == 0
