"""Tests for projects.label_config: result validation (the configs come from
test_label_config.py).

Pure Python (no Django): ``pytest tests/projects/test_label_config_results.py -p no:django``.
"""

from __future__ import annotations

import json

import pytest

from projects.label_config import ParsedConfig, parse_label_config
from projects.results import ResultError, format_result_error, validate_result
from tests.projects.test_label_config import (
    ALL_CONFIG_IDS,
    AUDIO_SEGMENTS,
    AUDIO_TRANSCRIPTION,
    BBOX,
    EVERYTHING_ELSE,
    IMAGE_CLASSIFICATION,
    IMAGE_GROUP,
    NER,
    OCR,
    REPEATER,
    SPANS,
    TEXT_CLASSIFICATION,
    TOOLS_WITHOUT_LABELS,
    VIDEO_TRACKING,
    problems,
    region,
)

# --------------------------------------------------------------------------- valid results


@pytest.mark.parametrize(
    ("config", "result"),
    [
        (TEXT_CLASSIFICATION, [region("sentiment", "text", "choices", {"choices": ["Positive"]})]),
        (
            NER,
            [
                region("label", "text", "labels", {"start": 0, "end": 5, "labels": ["PER"]}, id="a"),
                region("label", "text", "labels", {"start": 16, "end": 21, "labels": ["LOC"]}, id="b"),
                region("label", "text", "labels", {"start": 16, "end": 21, "labels": ["Location"]}),
                {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right", "labels": ["works_for"]},
            ],
        ),
        (IMAGE_CLASSIFICATION, [region("choice", "image", "Choices", {"choices": ["Weapons"]})]),
        (
            BBOX,
            [
                region("label", "image", "rectanglelabels", {"x": 1, "y": 2.5, "width": 10, "height": 20, "rotation": 0, "rectanglelabels": ["Car"]}),
                region("label", "image", "rectangle", {"x": 1, "y": 2, "width": 3, "height": 4}),
            ],
        ),
        (
            TOOLS_WITHOUT_LABELS,
            [
                region("rect", "image", "rectangle", {"x": 1, "y": 2, "width": 3, "height": 4}),
                region("poly", "image", "polygon", {"points": [[1, 2], [3, 4], [5, 6]]}),
                region("ellipse", "image", "ellipse", {"x": 50, "y": 50, "radiusX": 5, "radiusY": 9}),
                region("kp", "image", "keypoint", {"x": 10, "y": 20, "width": 1}),
                region("brush", "image", "brush", {"format": "rle", "rle": [0, 255, 3]}),
                region("rect", "image", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Tree"]}),
                region("label", "image", "labels", {"labels": ["Rock"]}),
                region("label", "image", "polygonlabels", {"points": [[1, 2]], "polygonlabels": ["Tree"]}),
            ],
        ),
        (
            OCR,
            [
                region("bbox", "image", "rectangle", {"x": 1, "y": 2, "width": 3, "height": 4}, id="r1"),
                region("label", "image", "labels", {"x": 1, "y": 2, "width": 3, "height": 4, "labels": ["Text"]}, id="r1"),
                region("transcription", "image", "textarea", {"x": 1, "y": 2, "width": 3, "height": 4, "text": ["Hello"]}, id="r1"),
            ],
        ),
        (AUDIO_TRANSCRIPTION, [region("transcription", "audio", "textarea", {"text": "hello"})]),
        (
            AUDIO_SEGMENTS,
            [region("speaker", "audio", "labels", {"start": 0.5, "end": 3.25, "labels": ["Speaker 1"]})],
        ),
        (
            EVERYTHING_ELSE,
            [
                region("stars", "question", "rating", {"rating": 10}),
                region("score", "question", "number", {"number": 42.5}),
                region("when", "question", "datetime", {"datetime": "2024-01-31"}),
                region("taxonomy", "question", "taxonomy", {"taxonomy": [["Eukarya", "Human"], ["Archaea"], ["Eukarya"]]}),
                region("tags", "question", "choices", {"choices": ["anything", "goes"]}),
                region("compare", "compare", "pairwise", {"selected": "left"}),
                region("compare", "left", "pairwise", {"selected": "right"}),
                region("rank", "results", "ranker", {"ranker": {"rank": ["b", "a"]}}),
            ],
        ),
        (
            VIDEO_TRACKING,
            [
                region("box", "video", "videorectangle", {"framesCount": 100, "duration": 4, "sequence": [{"frame": 1, "enabled": True, "x": 1, "y": 2, "width": 3, "height": 4, "time": 0.04}], "labels": ["Man"]}),
                region("videoLabels", "video", "videorectangle", {"sequence": [{"frame": 1, "x": 1, "y": 2, "width": 3, "height": 4}], "labels": ["Woman"]}),
                region("timeline", "video", "timelinelabels", {"ranges": [{"start": 1, "end": 10}], "timelinelabels": ["Walking"]}),
            ],
        ),
        (
            SPANS,
            [
                region("ht", "html", "hypertextlabels", {"start": "/p[1]/text()[1]", "end": "/p[1]/text()[1]", "startOffset": 0, "endOffset": 4, "hypertextlabels": ["Title"]}),
                region("pl", "dialogue", "paragraphlabels", {"start": "0", "end": "1", "startOffset": 0, "endOffset": 3, "paragraphlabels": ["Greeting"]}),
                region("tsl", "ts", "timeserieslabels", {"start": 1, "end": 5, "instant": False, "timeserieslabels": ["Run"]}),
                region("mask", "img", "brushlabels", {"format": "rle", "rle": [1, 2], "brushlabels": ["Sky"]}),
            ],
        ),
        (
            IMAGE_GROUP,
            [region("box", "pages", "rectanglelabels", {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Signature"], "item_index": 2})],
        ),
        (
            REPEATER,
            [region("labels_3", "page_3", "rectanglelabels", {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Stamp"]})],
        ),
    ],
    ids=ALL_CONFIG_IDS,
)  # fmt: skip
def test_valid_results_for_every_docs_config(config: str, result: list[dict]) -> None:
    assert problems(config, result) == []


def test_empty_result_is_valid() -> None:
    assert problems(TEXT_CLASSIFICATION, []) == []


def test_nested_choices_accept_paths() -> None:
    config = """<View><Text name="t" value="$t"/>
      <Choices name="c" toName="t" allowNested="true">
        <Choice value="Animal"><Choice value="Cat"/></Choice></Choices></View>"""

    assert problems(config, [region("c", "t", "choices", {"choices": [["Animal", "Cat"]]})]) == []
    assert parse_label_config(config).controls["c"]["paths"] == [["Animal"], ["Animal", "Cat"]]


def test_taxonomy_with_api_url_accepts_any_path() -> None:
    config = """<View><Text name="t" value="$t"/>
      <Taxonomy name="tx" toName="t" apiUrl="https://example.com/tax.json"/></View>"""

    assert problems(config, [region("tx", "t", "taxonomy", {"taxonomy": [["Any", "Thing"]]})]) == []


def test_text_span_within_utf16_length_with_task_data() -> None:
    result = [region("label", "text", "labels", {"start": 0, "end": 3, "labels": ["PER"]})]

    # "a😀" is 3 UTF-16 units (the emoji is a surrogate pair), as the editor counts.
    assert problems(NER, result, task_data={"text": "a😀"}) == []


# --------------------------------------------------------------------------- invalid results


@pytest.mark.parametrize(
    ("config", "item", "expected"),
    [
        (TEXT_CLASSIFICATION, region("mood", "text", "choices", {"choices": ["Positive"]}),
         []),  # not a control: stored as sent (Label Studio)
        (TEXT_CLASSIFICATION, region("sentiment", "txt", "choices", {"choices": ["Positive"]}),
         ['to_name "txt" is not an object tag in the config']),
        (EVERYTHING_ELSE, region("stars", "left", "rating", {"rating": 1}),
         ['to_name "left" is not a target of Rating "stars"']),
        (TEXT_CLASSIFICATION, region("sentiment", "text", "labels", {"labels": ["Positive"]}),
         ['type "labels" does not fit Choices "sentiment" (expected "choices")']),
        (BBOX, region("label", "image", "polygonlabels", {"points": [[1, 2]], "polygonlabels": ["Car"]}),
         ['type "polygonlabels" does not fit RectangleLabels "label" (expected "rectangle", "rectanglelabels")']),
        (TEXT_CLASSIFICATION, region("sentiment", "text", "choices", {"choices": ["Neutral", "Meh"]}),
         ['choice "Meh" is not in Choices "sentiment"']),
        (TEXT_CLASSIFICATION, region("sentiment", "text", "choices", {}),
         ['choices value is missing "choices"']),
        (TEXT_CLASSIFICATION, region("sentiment", "text", "choices", {"choices": "Positive"}),
         ['choices value "choices" must be a list of strings']),
        (NER, region("label", "text", "labels", {"start": 0, "end": 5, "labels": ["Person"]}),
         ['label "Person" is not in Labels "label"']),
        (NER, region("label", "text", "labels", {"start": 0, "labels": ["PER"]}),
         ['labels value is missing "end"']),
        (NER, region("label", "text", "labels", {"start": "0", "end": 5, "labels": ["PER"]}),
         ['labels value "start" must be an integer']),
        (TEXT_CLASSIFICATION, region("sentiment", "text", "choices", {"labels": ["Positive"]}),
         ['choices value is missing "choices"']),
        (NER, region("label", "text", "labels", {"start": 9, "end": 5, "labels": ["PER"]}),
         ['labels value "start" (9) is after "end" (5)']),
        (BBOX, region("label", "image", "rectanglelabels", {"x": 1, "y": 2, "height": 4, "rectanglelabels": ["Car"]}),
         ['rectanglelabels value is missing "width"']),
        (BBOX, region("label", "image", "rectanglelabels", {"x": "1", "y": 2, "width": True, "height": 4, "rectanglelabels": ["Car"]}),
         ['rectanglelabels value "x" must be a number', 'rectanglelabels value "width" must be a number']),
        (BBOX, region("label", "image", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4}),
         ['rectanglelabels value is missing "rectanglelabels"']),
        (BBOX, region("label", "image", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Boat"]}),
         ['label "Boat" is not in RectangleLabels "label"']),
        (TOOLS_WITHOUT_LABELS, region("rect", "image", "rectangle", {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": "90"}),
         ['rectangle value "rotation" must be a number']),
        (TOOLS_WITHOUT_LABELS, region("poly", "image", "polygon", {"points": [[1, 2, 3]]}),
         ['polygon value "points" must be a non-empty list of [x, y] number pairs']),
        (TOOLS_WITHOUT_LABELS, region("poly", "image", "polygon", {"points": []}),
         ['polygon value "points" must be a non-empty list of [x, y] number pairs']),
        (TOOLS_WITHOUT_LABELS, region("ellipse", "image", "ellipse", {"x": 1, "y": 2, "radiusX": 3}),
         ['ellipse value is missing "radiusY"']),
        (TOOLS_WITHOUT_LABELS, region("kp", "image", "keypoint", {"x": 1}),
         ['keypoint value is missing "y"']),
        (TOOLS_WITHOUT_LABELS, region("brush", "image", "brush", {"format": "rle"}),
         ['brush value is missing "rle"']),
        (TOOLS_WITHOUT_LABELS, region("brush", "image", "brush", {"rle": [1, 256]}),
         ['brush value "rle" must be a list of integers from 0 to 255']),
        (TOOLS_WITHOUT_LABELS, region("rect", "image", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Car"]}),
         ['label "Car" is not in any labels control for "image"']),
        (OCR, region("transcription", "image", "textarea", {"text": [1]}),
         ['textarea value "text" must be a string or a list of strings']),
        (AUDIO_TRANSCRIPTION, region("transcription", "audio", "textarea", {}),
         ['textarea value is missing "text"']),
        (AUDIO_SEGMENTS, region("speaker", "audio", "labels", {"labels": ["Speaker 1"]}),
         ['labels value is missing "start"', 'labels value is missing "end"']),
        (EVERYTHING_ELSE, region("stars", "question", "rating", {"rating": 11}),
         ['rating 11 is outside 0..10 of Rating "stars"']),
        (EVERYTHING_ELSE, region("stars", "question", "rating", {"rating": "5"}),
         ['rating value "rating" must be a number']),
        (EVERYTHING_ELSE, region("score", "question", "number", {"number": -1}),
         ['number -1 is below min 0 of Number "score"']),
        (EVERYTHING_ELSE, region("score", "question", "number", {"number": 101}),
         ['number 101 is above max 100 of Number "score"']),
        (EVERYTHING_ELSE, region("when", "question", "datetime", {"datetime": 20240131}),
         ['datetime value "datetime" must be a string']),
        (EVERYTHING_ELSE, region("taxonomy", "question", "taxonomy", {"taxonomy": [["Human"]]}),
         ['taxonomy path "Human" is not in Taxonomy "taxonomy"']),
        (EVERYTHING_ELSE, region("taxonomy", "question", "taxonomy", {"taxonomy": ["Archaea"]}),
         ['taxonomy value "taxonomy" must be a list of paths (lists of strings)']),
        (EVERYTHING_ELSE, region("compare", "compare", "pairwise", {"selected": "middle"}),
         ['pairwise value "selected" must be "left" or "right"']),
        (EVERYTHING_ELSE, region("rank", "results", "ranker", {"ranker": ["a", "b"]}),
         ['ranker value "ranker" must be an object whose values are lists of strings']),
        (VIDEO_TRACKING, region("box", "video", "videorectangle", {"sequence": [{"frame": 1, "x": 1}], "labels": ["Man"]}),
         ['videorectangle value "sequence" must be a non-empty list of keyframes with frame, x, y, width and height']),
        (VIDEO_TRACKING, region("box", "video", "videorectangle", {"sequence": [{"frame": 1, "x": 1, "y": 1, "width": 1, "height": 1}], "labels": ["Dog"]}),
         ['label "Dog" is not in any labels control for "video"']),
        (VIDEO_TRACKING, region("timeline", "video", "timelinelabels", {"ranges": [], "timelinelabels": ["Walking"]}),
         ['timelinelabels value "ranges" must be a non-empty list of {start, end} objects']),
        (SPANS, region("ht", "html", "hypertextlabels", {"start": "/p[1]", "end": "/p[1]", "hypertextlabels": ["Title"]}),
         ['hypertextlabels value is missing "startOffset"', 'hypertextlabels value is missing "endOffset"']),
        (SPANS, region("pl", "dialogue", "paragraphlabels", {"start": 0, "end": 1, "startOffset": "0", "paragraphlabels": ["Greeting"]}),
         ['paragraphlabels value "startOffset" must be an integer']),
        (SPANS, region("tsl", "ts", "timeserieslabels", {"start": 1, "timeserieslabels": ["Run"]}),
         ['timeserieslabels value is missing "end"']),
        (SPANS, region("mask", "img", "brushlabels", {"rle": [1], "brushlabels": ["Cloud"]}),
         ['label "Cloud" is not in BrushLabels "mask"']),
        (REPEATER, region("labels_1", "page_2", "rectanglelabels", {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Stamp"]}),
         []),  # indexes are not cross-checked; names only have to fit the pattern
        (REPEATER, region("labels_x", "page_1", "rectanglelabels", {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["Stamp"]}),
         []),  # fits no name pattern: not a control, stored as sent (Label Studio)
    ],
)  # fmt: skip
def test_invalid_result_items(config: str, item: dict, expected: list[str]) -> None:
    assert problems(config, [item]) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("choices", ["result item must be an object"]),
        ({"from_name": "sentiment"}, ['result item is missing "type"']),
        ({"type": "choices", "to_name": "text", "value": {}}, ['result item is missing "from_name"']),
        ({"type": "choices", "from_name": "sentiment"},
         ['result item is missing "to_name"', 'result item is missing "value"']),
        (region("sentiment", "text", "choices", ["Positive"]), ['"value" must be an object']),  # type: ignore[arg-type]
    ],
)  # fmt: skip
def test_malformed_result_items(item: object, expected: list[str]) -> None:
    assert problems(TEXT_CLASSIFICATION, [item]) == expected


def test_result_must_be_a_list() -> None:
    errors = validate_result(parse_label_config(TEXT_CLASSIFICATION), {"result": []})

    assert errors == [ResultError(None, "result must be a list of regions")]


def test_relation_problems() -> None:
    result = [
        region("label", "text", "labels", {"start": 0, "end": 1, "labels": ["PER"]}, id="a"),
        {"type": "relation", "from_id": "a", "to_id": "zzz", "direction": "up", "labels": ["x"]},
        {"type": "relation", "to_id": "a"},
    ]

    errors = validate_result(parse_label_config(NER), result)

    assert [(e.index, e.problem) for e in errors] == [
        (1, 'relation to_id "zzz" does not match any region id in this result'),
        (1, 'relation direction "up" must be "left", "right" or "bi"'),
        (1, 'relation label "x" is not in Relations'),
        (2, 'relation is missing "from_id"'),
    ]


def test_text_span_past_the_end_with_task_data() -> None:
    result = [region("label", "text", "labels", {"start": 2, "end": 40, "labels": ["PER"]})]

    assert problems(NER, result, task_data={"text": "short"}) == [
        'span 2..40 is outside "text" (5 characters)'
    ]
    assert problems(NER, result) == []  # no task data, no length check


def test_errors_carry_id_and_index_and_format_nicely() -> None:
    result = [
        region("sentiment", "text", "choices", {"choices": ["Positive"]}, id="ok"),
        region("sentiment", "text", "choices", {"choices": ["Meh"]}, id="abc"),
    ]

    errors = validate_result(parse_label_config(TEXT_CLASSIFICATION), result)

    assert errors == [ResultError("abc", 'choice "Meh" is not in Choices "sentiment"', 1)]
    assert format_result_error(errors[0]) == (
        'result[1] (id "abc"): choice "Meh" is not in Choices "sentiment"'
    )
    assert format_result_error(ResultError(None, "boom")) == "result: boom"


def test_validate_works_from_a_cached_dict() -> None:
    cached = json.loads(json.dumps(parse_label_config(BBOX).to_dict()))
    parsed = ParsedConfig.from_dict(cached)
    value = {"x": 1, "y": 2, "width": 3, "height": 4, "rectanglelabels": ["Boat"]}
    item = region("label", "image", "rectanglelabels", value)

    assert [e.problem for e in validate_result(parsed, [item])] == [
        'label "Boat" is not in RectangleLabels "label"'
    ]
