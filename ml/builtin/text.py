"""Text classification: Text or HyperText with Choices (single or multiple), TF-IDF of
words and word pairs into logistic regression; ``predict_proba`` is the score.

Word n-grams only: character n-grams (2-4) cost four times as much to transform
(measured: 10k short texts in 4.6 s against 1.1 s on the shared 2-core machine), which at
a million tasks is the difference between a few minutes and a quarter of an hour."""

from __future__ import annotations

import html
import re

import numpy as np

from ml.builtin.base import BuiltinModel, Spec, control_for
from projects.label_config import ParsedConfig

_TAGS = re.compile(r"<[^>]+>")


class ChoicesModel(BuiltinModel):
    """Shared by the text and image classifiers: targets and results for Choices."""

    def target(self, result: list):
        for item in result or []:
            if item.get("from_name") != self.spec.from_name or item.get("type") != "choices":
                continue
            chosen = [
                c for c in (item.get("value") or {}).get("choices") or [] if c in self.spec.labels
            ]
            if not chosen:
                return None
            return tuple(sorted(chosen)) if self.spec.multi else chosen[0]
        return None

    def _result(self, chosen: list[str]) -> list[dict]:
        return [
            {
                "from_name": self.spec.from_name,
                "to_name": self.spec.to_name,
                "type": "choices",
                "value": {"choices": chosen},
            }
        ]

    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=2000, C=4.0)

    def _fit_matrix(self, matrix, targets: list) -> None:
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MultiLabelBinarizer

        if self.spec.multi:
            self.binarizer = MultiLabelBinarizer(classes=list(self.spec.labels))
            y = self.binarizer.fit_transform(targets)
            self.classifier = OneVsRestClassifier(self._classifier()).fit(matrix, y)
        else:
            self.classifier = self._classifier().fit(matrix, targets)

    def _predict_matrix(self, matrix):
        proba = self.classifier.predict_proba(matrix)
        results, scores = [], []
        if self.spec.multi:
            classes = list(self.binarizer.classes_)
            for row in proba:
                chosen = [classes[i] for i in np.flatnonzero(row >= 0.5)] or [
                    classes[int(row.argmax())]
                ]
                results.append(self._result(chosen))
                scores.append(float(np.mean([row[classes.index(c)] for c in chosen])))
            # Uncertainty of a multi-choice answer: that of its least certain choice.
            closest = np.abs(proba - 0.5).argmin(axis=1)
            p = proba[np.arange(len(proba)), closest]
            return results, scores, np.stack([p, 1 - p], axis=1)
        classes = list(self.classifier.classes_)
        for row in proba:
            best = int(row.argmax())
            results.append(self._result([classes[best]]))
            scores.append(float(row[best]))
        return results, scores, proba

    def _evaluate(self, predicted: list[list[dict]], targets: list) -> dict:
        from sklearn.metrics import accuracy_score, f1_score

        guesses = [self.target(result) for result in predicted]
        if self.spec.multi:
            truth = self.binarizer.transform(targets)
            guess = self.binarizer.transform([g or () for g in guesses])
            return {
                "accuracy": float(accuracy_score(truth, guess)),
                "f1": float(f1_score(truth, guess, average="micro", zero_division=0)),
            }
        return {
            "accuracy": float(accuracy_score(targets, guesses)),
            "f1": float(f1_score(targets, guesses, average="macro", zero_division=0)),
        }


class TextClassifier(ChoicesModel):
    name = "text-classifier"
    title = "Text classification (TF-IDF + logistic regression)"
    needs = "a Text or HyperText object with a Choices control (two or more fixed choices)"

    @classmethod
    def spec_for(cls, parsed: ParsedConfig) -> Spec:
        return control_for(
            parsed, control_types={"Choices"}, object_types={"Text", "HyperText"}, needs=cls.needs
        )

    def _value(self, data: dict) -> str:
        value = super()._value(data)
        text = value if isinstance(value, str) else str(value)
        return html.unescape(_TAGS.sub(" ", text))

    def fit(self, inputs: list, targets: list) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=200_000
        )
        self._fit_matrix(self.vectorizer.fit_transform(inputs), targets)
        # A small dense projection for the diversity sampling of active learning.
        matrix = self.vectorizer.transform(inputs)
        dims = min(32, matrix.shape[1] - 1, len(inputs) - 1)
        self.reducer = (
            TruncatedSVD(n_components=dims, random_state=0).fit(matrix) if dims >= 2 else None
        )

    def predict(self, inputs: list):
        return self._predict_matrix(self.vectorizer.transform(inputs))

    def features(self, inputs: list):
        if self.reducer is None:
            return None
        return self.reducer.transform(self.vectorizer.transform(inputs))

    def predict_with_features(self, inputs: list):
        """``predict`` and ``features`` with one TF-IDF transform."""
        matrix = self.vectorizer.transform(inputs)
        results, scores, proba = self._predict_matrix(matrix)
        features = self.reducer.transform(matrix) if self.reducer is not None else None
        return results, scores, proba, features

    def evaluate(self, inputs: list, targets: list) -> dict:
        return self._evaluate(self.predict(inputs)[0], targets)
