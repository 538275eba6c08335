"""Image classification: Image with Choices. Features are computed on the worker from
the image file - a HOG descriptor of the grey image, a colour histogram and a small grey
thumbnail - then standardised into logistic regression."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from ml.builtin.base import Spec, control_for
from ml.builtin.text import ChoicesModel
from ml.media import media_stamp, open_image
from projects.label_config import ParsedConfig

SIDE = 32


def image_features(image: Image.Image) -> np.ndarray:
    from skimage.feature import hog  # scikit-image (and scipy): loaded on first use

    rgb = image.convert("RGB")
    grey = np.asarray(rgb.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR), float)
    grey /= 255.0
    shape = hog(grey, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    small = np.asarray(rgb.resize((64, 64)), dtype=np.uint8)
    colour = np.concatenate(
        [np.histogram(small[..., c], bins=8, range=(0, 256))[0] / (64 * 64) for c in range(3)]
    )
    thumb = np.asarray(rgb.convert("L").resize((8, 8), Image.Resampling.BOX), float) / 255.0
    return np.concatenate([shape, colour, thumb.ravel()])


@lru_cache(maxsize=20_000)
def _cached_features(url: str, stamp: tuple) -> np.ndarray:
    with open_image(url) as image:
        return image_features(image)


def features_of(url: str) -> np.ndarray:
    """An image's features, cached per worker process for uploaded files (keyed by
    path, size and mtime; about 3 KB each): every training and prediction job after a
    retrain reads the same images again, and decoding plus HOG is most of their cost."""
    stamp = media_stamp(url)
    if stamp is None:
        with open_image(url) as image:
            return image_features(image)
    return _cached_features(url, stamp)


class ImageClassifier(ChoicesModel):
    name = "image-classifier"
    title = "Image classification (HOG + colour features, logistic regression)"
    needs = "an Image object with a Choices control (two or more fixed choices)"

    @classmethod
    def spec_for(cls, parsed: ParsedConfig) -> Spec:
        return control_for(
            parsed, control_types={"Choices"}, object_types={"Image"}, needs=cls.needs
        )

    def inputs(self, datas: list[dict]) -> np.ndarray:
        rows = [features_of(str(self._value(data))) for data in datas]
        return np.vstack(rows) if rows else np.zeros((0, 1))

    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=3000, C=1.0)

    def fit(self, inputs, targets: list) -> None:
        from sklearn.preprocessing import StandardScaler

        self.scaler = StandardScaler().fit(inputs)
        self._fit_matrix(self.scaler.transform(inputs), targets)

    def predict(self, inputs):
        return self._predict_matrix(self.scaler.transform(inputs))

    def features(self, inputs):
        return self.scaler.transform(inputs)

    def evaluate(self, inputs, targets: list) -> dict:
        return self._evaluate(self.predict(inputs)[0], targets)


__all__ = ["ImageClassifier", "image_features"]
