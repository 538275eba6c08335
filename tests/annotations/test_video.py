"""Video tracks and timeline spans: keyframe interpolation (as the editor and Label
Studio's export do), agreement by IoU over frames, timeline spans, and the export's
``interpolate_key_frames``."""

import orjson
import pytest

from annotations import metrics
from annotations.video import extract_key_frames, track_boxes
from tests.factories import export_bytes

VIDEO_CONFIG = """<View>
  <Labels name="videoLabels" toName="video"><Label value="Car"/><Label value="Person"/></Labels>
  <Video name="video" value="$video" framerate="10"/>
  <VideoRectangle name="box" toName="video"/>
  <TimelineLabels name="events" toName="video"><Label value="Run"/><Label value="Walk"/></TimelineLabels>
</View>"""


def key(frame, x, y=10.0, w=20.0, h=20.0, enabled=True):
    return {
        "frame": frame,
        "enabled": enabled,
        "rotation": 0,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "time": frame / 10,
    }


def track(sequence, label="Car", frames=30):
    return {
        "id": "t1",
        "from_name": "box",
        "to_name": "video",
        "type": "videorectangle",
        "value": {
            "framesCount": frames,
            "duration": frames / 10,
            "sequence": sequence,
            "labels": [label],
        },
    }


def timeline(ranges, label="Run"):
    return {
        "id": "s1",
        "from_name": "events",
        "to_name": "video",
        "type": "timelinelabels",
        "value": {"ranges": ranges, "timelinelabels": [label]},
    }


def test_track_boxes_interpolate_between_keyframes_and_hold_to_the_end():
    boxes = track_boxes(
        track([key(1, 0.0), key(11, 50.0), key(21, 50.0, enabled=False)]).get("value")
    )
    assert boxes[1][0] == 0.0 and boxes[6][0] == pytest.approx(25.0) and boxes[11][0] == 50.0
    assert boxes[20][0] == 50.0
    assert 21 not in boxes and 25 not in boxes  # disabled: the track ends at frame 21
    held = track_boxes(track([key(5, 30.0)], frames=12)["value"])
    assert sorted(held) == list(range(5, 13)) and held[12][0] == 30.0


def test_extract_key_frames_is_label_studios():
    sdk = pytest.importorskip(
        "label_studio_sdk._extensions.label_studio_tools.postprocessing.video"
    )
    results = [
        track([key(1, 0.0), key(11, 50.0, w=30.0), key(16, 50.0, enabled=False), key(20, 10.0)]),
        {"type": "choices", "from_name": "c", "to_name": "video", "value": {"choices": ["A"]}},
    ]
    ours = extract_key_frames(results)
    assert ours == sdk.extract_key_frames(results)
    frames = ours[0]["value"]["sequence"]
    assert [f["frame"] for f in frames if not f.get("auto")] == [1, 11, 16, 20]
    assert {f["frame"] for f in frames} >= set(range(1, 17)) | set(range(20, 31))
    sixth = next(f for f in frames if f["frame"] == 6)
    assert sixth["auto"] is True and sixth["x"] == pytest.approx(25.0) and sixth["width"] == 25.0
    assert ours[1] == results[1]


def test_extract_key_frames_reads_keyframes_without_rotation_or_time():
    bare = track(
        [
            {"frame": 1, "x": 0, "y": 0, "width": 10, "height": 10},
            {"frame": 3, "x": 10, "y": 0, "width": 10, "height": 10},
        ],
        frames=3,
    )
    (out,) = extract_key_frames([bare])
    assert [f["frame"] for f in out["value"]["sequence"]] == [1, 2, 3]
    assert out["value"]["sequence"][1]["x"] == pytest.approx(5.0)


def test_video_track_agreement_is_iou_over_frames():
    a = [track([key(1, 0.0), key(11, 50.0)], frames=20)]
    assert metrics.score(a, a) == 1.0
    # The same boxes on frames 1..10, where b's track ends: half of a's 20 frames shared
    b = [track([key(1, 0.0), key(11, 50.0, enabled=False)], frames=20)]
    comparison = metrics.compare(a, b)
    assert comparison.unsupported == []
    assert metrics._track_iou(
        track_boxes(a[0]["value"]), track_boxes(b[0]["value"])
    ) == pytest.approx(0.5)
    assert comparison.score == 1.0  # IoU 0.5 >= the threshold: matched
    far = [track([key(1, 60.0), key(11, 60.0)], frames=20)]
    assert metrics.score(a, far) == 0.0
    other_label = [track([key(1, 0.0), key(11, 50.0)], label="Person", frames=20)]
    assert metrics.score(a, other_label) == 0.0


def test_timeline_spans_agreement():
    a = [timeline([{"start": 1, "end": 10}]), timeline([{"start": 20, "end": 25}], "Walk")]
    assert metrics.score(a, a) == 1.0
    shifted = [timeline([{"start": 2, "end": 10}]), timeline([{"start": 20, "end": 25}], "Walk")]
    assert metrics.score(a, shifted) == pytest.approx(0.5)  # one of two spans exact
    partial = metrics.Options(span_partial=True)
    assert metrics.score(a, shifted, partial) == 1.0  # 9/10 of the frames shared
    assert metrics.score(a, [timeline([{"start": 1, "end": 10}], "Walk")]) == 0.0
    assert metrics.compare(a, shifted).unsupported == []


@pytest.mark.django_db
def test_export_interpolates_key_frames_on_request(api, make_project):
    project = make_project(VIDEO_CONFIG)
    result = [track([key(1, 0.0), key(5, 40.0)], frames=8), timeline([{"start": 1, "end": 3}])]
    response = api.post(
        f"/api/projects/{project.pk}/import",
        data=orjson.dumps([{"data": {"video": "/v.webm"}, "annotations": [{"result": result}]}]),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    (plain,) = orjson.loads(export_bytes(api, project, exportType="JSON"))
    assert len(plain["annotations"][0]["result"][0]["value"]["sequence"]) == 2
    (task,) = orjson.loads(
        export_bytes(api, project, exportType="JSON", interpolate_key_frames="true")
    )
    stored = task["annotations"][0]["result"]
    sequence = stored[0]["value"]["sequence"]
    assert [f["frame"] for f in sequence] == list(range(1, 9))
    assert sequence[2]["x"] == pytest.approx(20.0) and sequence[2]["auto"] is True
    assert stored[1] == result[1]  # the timeline span as stored
