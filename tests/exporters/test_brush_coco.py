"""BRUSH_TO_COCO's shapes against label-studio-sdk's converter on masks with several
blobs, holes and diagonal edges, and on polygons."""

import numpy as np
import pytest
from label_studio_sdk.converter.brush import encode_rle
from label_studio_sdk.converter.exports.brush_to_coco import (
    generate_contour_from_polygon,
    generate_contour_from_rle,
)

from exporters.formats.brush_coco import mask_contours, polygon_shape


def _rle(alpha: np.ndarray) -> list[int]:
    height, width = alpha.shape
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[:, :, 3] = alpha
    return encode_rle(rgba.flatten())


def _shapes(width=60, height=40) -> list[np.ndarray]:
    yy, xx = np.mgrid[:height, :width]
    disc = ((xx - 15) ** 2 + (yy - 15) ** 2 < 100) * 255
    ring = disc * (((xx - 15) ** 2 + (yy - 15) ** 2) > 16)
    triangle = ((xx > 30) & (yy > 5) & (xx - 30 < yy - 5) & (yy < 35)) * 255
    dots = np.zeros((height, width))
    dots[2, 2] = dots[38, 58] = dots[20:22, 40:42] = 255
    return [disc, ring, triangle, disc + triangle, dots, np.zeros((height, width))]


@pytest.mark.parametrize("index", range(6))
def test_mask_contours_match_the_converter(index):
    alpha = _shapes()[index].astype(np.uint8)
    rle = _rle(alpha)
    segmentations, boxes, areas = generate_contour_from_rle(rle, 60, 40)
    ours = mask_contours(rle, 60, 40)
    assert [s for s, _, _ in ours] == segmentations
    assert [b for _, b, _ in ours] == boxes
    assert [a for _, _, a in ours] == areas


def test_bad_rle_gives_nothing():
    assert mask_contours([1, 2, 3], 60, 40) == []


@pytest.mark.parametrize(
    "points",
    [[[10, 10], [50, 12.5], [33.3, 80]], [[0, 0], [100, 0], [100, 100], [0, 100]]],
)
def test_polygon_shape_matches_the_converter(points):
    segmentation, bbox, area = generate_contour_from_polygon(points, 640, 480)
    assert polygon_shape(points, 640, 480) == (segmentation[0], bbox, area)


def test_rle_of_another_size_is_refused_before_decoding(monkeypatch):
    from exporters.formats import brush_coco

    def boom(rle):
        raise AssertionError("decoded")

    monkeypatch.setattr(brush_coco, "decode_rle", boom)
    huge = list((2**32 - 1).to_bytes(4, "big")) + [0] * 8
    assert mask_contours(huge, 60, 40) == []
