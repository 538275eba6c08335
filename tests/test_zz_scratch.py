import json, pytest
pytestmark = pytest.mark.django_db

def test_dump(api, make_project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from tests.factories import upload
    from tests.importers.test_archives_media import PNG
    h = make_project("""<View><Hypertext name="hyper" value="&lt;embed src='$image'/&gt;"/></View>""", "h")
    r = upload(api, h, "first.jpg", open("/work/wt/compat/.cache/compat-venv/lib/python3.11/site-packages/label_studio/tests/test_suites/samples/first.jpg","rb").read()); print(r.json())
    print(json.dumps(api.get(f"/api/tasks?project={h.pk}").json(), indent=1))
