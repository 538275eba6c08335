"""annotations.metrics: every expected value below is worked out by hand in the comment."""

import numpy as np
import pytest
from label_studio_sdk.converter.brush import encode_rle

from annotations.metrics import Options, compare, mean_pairwise, rle_decode, score


def choices(*values, name="sentiment"):
    return {
        "from_name": name,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": list(values)},
    }


def rect(x, y, w, h, label="Cat", rotation=0, name="label"):
    value = {"x": x, "y": y, "width": w, "height": h, "rectanglelabels": [label]}
    if rotation:
        value["rotation"] = rotation
    return {"from_name": name, "to_name": "image", "type": "rectanglelabels", "value": value}


def span(start, end, label="PER", name="ner"):
    return {
        "from_name": name,
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "labels": [label]},
    }


# ----------------------------------------------------------------------------- choices


def test_single_choice_equal_and_different():
    assert score([choices("Positive")], [choices("Positive")]) == 1.0
    assert score([choices("Positive")], [choices("Negative")]) == 0.0


def test_multi_choice_is_jaccard():
    # {A, B} vs {B, C}: intersection 1, union 3.
    assert score([choices("A", "B")], [choices("B", "C")]) == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- edge cases


def test_two_empty_results_agree():
    assert score([], []) == 1.0


def test_empty_against_a_labeled_result_is_zero():
    assert score([], [choices("Positive")]) == 0.0


def test_one_annotator_has_no_pairwise_agreement():
    assert mean_pairwise([[choices("Positive")]]) is None
    assert mean_pairwise([]) is None


def test_control_in_only_one_annotation_counts_zero():
    # sentiment agrees (1), topic only in b (0): mean (1 + 0) / 2.
    a = [choices("Positive")]
    b = [choices("Positive"), choices("Sports", name="topic")]
    result = compare(a, b)
    assert result.controls == {"sentiment": 1.0, "topic": 0.0}
    assert result.score == 0.5


def test_unknown_types_are_named_and_left_out():
    ranker = {"from_name": "rank", "to_name": "list", "type": "ranker", "value": {"ranker": {}}}
    relation = {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right"}
    result = compare([choices("Positive"), ranker, relation], [choices("Positive"), ranker])
    assert result.score == 1.0
    assert result.unsupported == ["ranker", "relation"]
    only_unknown = compare([ranker], [ranker])
    assert only_unknown.score is None
    assert only_unknown.unsupported == ["ranker"]


def test_mean_pairwise_of_three():
    # pairs: (P, P) = 1, (P, N) = 0, (P, N) = 0 -> 1/3
    results = [[choices("Positive")], [choices("Positive")], [choices("Negative")]]
    assert mean_pairwise(results) == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- regions


def test_overlapping_boxes_in_swapped_order_match_one_to_one():
    # Two boxes that overlap each other (IoU of A and B: 60/140 < 0.5), listed in the
    # opposite order by the second annotator. Greedy first-fit on "IoU with anything"
    # would not matter here; Hungarian matching pairs each box with its twin: F1 = 1.
    a = [rect(0, 0, 10, 10, "Cat"), rect(4, 0, 10, 10, "Dog")]
    b = [rect(4, 0, 10, 10, "Dog"), rect(0, 0, 10, 10, "Cat")]
    assert score(a, b) == 1.0


def test_hungarian_beats_greedy_on_overlapping_boxes():
    # a1 = [0,10], a2 = [3,13] (both 10 wide, height 10); b1 = [2,12], b2 = [5,15].
    # IoU(a1,b1) = 8/12 = .667, IoU(a1,b2) = 5/15 = .333, IoU(a2,b1) = 9/11 = .818,
    # IoU(a2,b2) = 8/12 = .667. Greedy by best IoU takes (a2,b1), leaving (a1,b2) below
    # 0.5: one match, F1 = 2*1/4 = 0.5. One to one: (a1,b1) and (a2,b2): F1 = 1.
    a = [rect(0, 0, 10, 10), rect(3, 0, 10, 10)]
    b = [rect(2, 0, 10, 10), rect(5, 0, 10, 10)]
    assert score(a, b) == 1.0


def test_box_label_and_iou_threshold():
    # Same place, other label: no match -> 0. Shifted by 5 of 10: IoU 50/150 = 1/3 -> 0.
    assert score([rect(0, 0, 10, 10, "Cat")], [rect(0, 0, 10, 10, "Dog")]) == 0.0
    assert score([rect(0, 0, 10, 10)], [rect(5, 0, 10, 10)]) == 0.0
    # Shifted by 2: IoU 80/120 = 0.667 -> match.
    assert score([rect(0, 0, 10, 10)], [rect(2, 0, 10, 10)]) == 1.0


def test_boxes_f1_with_a_missing_region():
    # a has 2 boxes, b only the first: 1 match, F1 = 2*1/(2+1) = 2/3.
    a = [rect(0, 0, 10, 10), rect(50, 50, 10, 10)]
    b = [rect(0, 0, 10, 10)]
    assert score(a, b) == pytest.approx(2 / 3)


def test_rotated_rectangle_rotates_around_its_top_left_corner():
    # A 10x10 box turned 90 degrees around (20, 20) covers x 10..20, y 20..30.
    assert score([rect(20, 20, 10, 10, rotation=90)], [rect(10, 20, 10, 10)]) == 1.0
    assert score([rect(20, 20, 10, 10, rotation=90)], [rect(20, 20, 10, 10)]) == 0.0


def polygon(points, label="Cat"):
    return {
        "from_name": "poly",
        "to_name": "image",
        "type": "polygonlabels",
        "value": {"points": points, "polygonlabels": [label]},
    }


def test_polygons_use_area_iou():
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    # The triangle is half the square: IoU 50/100 = 0.5, at the threshold -> match.
    triangle = [[0, 0], [10, 0], [10, 10]]
    assert score([polygon(square)], [polygon(triangle)]) == 1.0
    # A smaller triangle (area 12.5): IoU 0.125 -> no match.
    assert score([polygon(square)], [polygon([[0, 0], [5, 0], [5, 5]])]) == 0.0


def ellipse(x, y, rx, ry, label="Cell"):
    return {
        "from_name": "cells",
        "to_name": "image",
        "type": "ellipselabels",
        "value": {"x": x, "y": y, "radiusX": rx, "radiusY": ry, "ellipselabels": [label]},
    }


def test_ellipses():
    # Circles of radius 10 and 8 with one centre: IoU = 64/100 = 0.64 -> match.
    assert score([ellipse(50, 50, 10, 10)], [ellipse(50, 50, 8, 8)]) == 1.0
    # Radius 10 and 6: IoU = 0.36 -> no match.
    assert score([ellipse(50, 50, 10, 10)], [ellipse(50, 50, 6, 6)]) == 0.0


def brush(mask: np.ndarray, label="Road"):
    height, width = mask.shape
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[mask, 3] = 255
    return {
        "from_name": "seg",
        "to_name": "image",
        "type": "brushlabels",
        "original_width": width,
        "original_height": height,
        "value": {"format": "rle", "rle": encode_rle(rgba.flatten()), "brushlabels": [label]},
    }


def test_brush_rle_round_trip_with_the_sdk_encoder():
    flat = np.arange(4 * 5 * 4, dtype=np.uint8) % 7
    assert np.array_equal(rle_decode(encode_rle(flat)), flat)


def test_brush_masks_iou():
    base = np.zeros((20, 20), dtype=bool)
    a = base.copy()
    a[0:10, 0:10] = True  # 100 pixels
    b = base.copy()
    b[0:10, 0:8] = True  # 80 pixels, all inside a: IoU 80/100 = 0.8 -> match
    c = base.copy()
    c[0:10, 6:16] = True  # overlaps a in 40: IoU 40/160 = 0.25 -> no match
    assert score([brush(a)], [brush(b)]) == 1.0
    assert score([brush(a)], [brush(c)]) == 0.0
    assert score([brush(a)], [brush(b, label="Car")]) == 0.0


def keypoint(x, y, label="Eye", width=1000, height=1000):
    return {
        "from_name": "kp",
        "to_name": "image",
        "type": "keypointlabels",
        "original_width": width,
        "original_height": height,
        "value": {"x": x, "y": y, "width": 1, "keypointlabels": [label]},
    }


def test_keypoints_within_two_percent_of_the_diagonal():
    # 1000 x 1000 image: diagonal 1414.2 px, limit 28.28 px. 2% of x is 20 px -> match;
    # 3% is 30 px -> too far.
    assert score([keypoint(50, 50)], [keypoint(52, 50)]) == 1.0
    assert score([keypoint(50, 50)], [keypoint(53, 50)]) == 0.0
    assert score([keypoint(50, 50)], [keypoint(50, 50, "Nose")]) == 0.0


# ----------------------------------------------------------------------------- spans


def test_spans_exact_by_default():
    # a: (0,5,PER), (10,20,ORG); b: (0,5,PER), (10,18,ORG). Exact: 1 match, F1 = 2/4.
    a = [span(0, 5), span(10, 20, "ORG")]
    b = [span(0, 5), span(10, 18, "ORG")]
    assert score(a, b) == 0.5


def test_spans_partial_option_counts_half_overlap():
    # (10,20) vs (10,18): IoU 8/10 = 0.8 >= 0.5 -> match: F1 = 1.
    a = [span(0, 5), span(10, 20, "ORG")]
    b = [span(0, 5), span(10, 18, "ORG")]
    assert score(a, b, Options(span_partial=True)) == 1.0
    # (10,20) vs (15,20): IoU exactly 5/10 = 0.5 -> match; (10,20) vs (16,20): 0.4 -> not.
    assert score([span(10, 20)], [span(15, 20)], Options(span_partial=True)) == 1.0
    assert score([span(10, 20)], [span(16, 20)], Options(span_partial=True)) == 0.0
    # Overlap with a different label never counts.
    assert score([span(10, 20)], [span(10, 20, "ORG")], Options(span_partial=True)) == 0.0


def test_hypertext_spans_compare_offsets_within_the_same_nodes():
    def ht(start, end, so, eo):
        return {
            "from_name": "html",
            "to_name": "doc",
            "type": "hypertextlabels",
            "value": {
                "start": start,
                "end": end,
                "startOffset": so,
                "endOffset": eo,
                "hypertextlabels": ["Title"],
            },
        }

    assert score([ht("/p[1]", "/p[1]", 0, 10)], [ht("/p[1]", "/p[1]", 0, 10)]) == 1.0
    assert score([ht("/p[1]", "/p[1]", 0, 10)], [ht("/p[1]", "/p[1]", 0, 8)]) == 0.0
    partial = Options(span_partial=True)
    assert score([ht("/p[1]", "/p[1]", 0, 10)], [ht("/p[1]", "/p[1]", 0, 8)], partial) == 1.0
    assert score([ht("/p[1]", "/p[1]", 0, 10)], [ht("/p[2]", "/p[2]", 0, 10)], partial) == 0.0


# ----------------------------------------------------------------------------- the rest


def textarea(*texts):
    return {
        "from_name": "tx",
        "to_name": "audio",
        "type": "textarea",
        "value": {"text": list(texts)},
    }


def test_textarea_edit_distance_after_trimming():
    assert score([textarea("  hello ")], [textarea("hello")]) == 1.0
    # "kitten" -> "sitting": Levenshtein 3, longer length 7: 1 - 3/7 = 4/7.
    assert score([textarea("kitten")], [textarea("sitting")]) == pytest.approx(4 / 7)


def rating(value, kind="rating", name="stars"):
    return {"from_name": name, "to_name": "text", "type": kind, "value": {kind: value}}


def test_rating_and_number_with_tolerance():
    assert score([rating(4)], [rating(4)]) == 1.0
    assert score([rating(4)], [rating(5)]) == 0.0
    assert score([rating(4)], [rating(5)], Options(tolerance={"stars": 1})) == 1.0
    assert score([rating(4.0, "number", "n")], [rating(4.4, "number", "n")]) == 0.0
    assert (
        score(
            [rating(4.0, "number", "n")],
            [rating(4.4, "number", "n")],
            Options(tolerance={"n": 0.5}),
        )
        == 1.0
    )


def test_taxonomy_jaccard_of_paths():
    def tax(*paths):
        return {
            "from_name": "t",
            "to_name": "text",
            "type": "taxonomy",
            "value": {"taxonomy": list(paths)},
        }

    # {(A,B), (C,)} vs {(A,B), (A,)}: 1 shared of 3 distinct.
    assert score([tax(["A", "B"], ["C"])], [tax(["A", "B"], ["A"])]) == pytest.approx(1 / 3)


def test_datetime_equal():
    def dt(value):
        return {
            "from_name": "d",
            "to_name": "text",
            "type": "datetime",
            "value": {"datetime": value},
        }

    assert score([dt("2024-01-01")], [dt("2024-01-01")]) == 1.0
    assert score([dt("2024-01-01")], [dt("2024-01-02")]) == 0.0
