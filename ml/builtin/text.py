"""Text classification: Text or HyperText with Choices (single or multiple), TF-IDF of
words and word pairs, and of character n-grams within words, into logistic regression;
``predict_proba`` is the score. ``TextOptions`` holds the knobs (bench/README.md
measured each on real short texts; ``DEFAULT_OPTIONS`` is the product's).

Character n-grams (``char_wb`` 2-5) let texts of 3-12 words that share no whole word
with the labeled ones share features ("configur" in "configuration" and "configure"):
on the bench's three real text sets they (with no intercept and balanced classes) raised
the mean accuracy of the first 40-640 labels by 0.02-0.055 and full-pool accuracy on two
of the three (0.006 lower on the third). They cost CPU: the model's
``predict_with_features`` on 10k Debian synopses took 0.9-1.2 s against 0.13 s with words
only (load average 10-11), so about a minute and a half more per million short texts in a
prediction job (which took six minutes at a million tasks, bench/README.md), and a larger
model file (all 9,077 Debian synopses: 21 MB against 8.7 MB, joblib compress 3).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from ml.builtin.base import BuiltinModel, Spec, control_for
from projects.label_config import ParsedConfig

_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class TextOptions:
    """The text model's knobs. The defaults are the product's (bench/README.md)."""

    # Character n-grams within word boundaries, (low, high); None: words only.
    chars: tuple[int, int] | None = (2, 5)
    # An intercept per class. Without one a text with no known feature gets equal
    # probabilities (the most uncertain), not the prior of the labels seen so far, and
    # a text whose features are mostly unseen keeps what its seen ones say.
    intercept: bool = False
    # "balanced": weigh classes by the inverse of their share of the labels; the first
    # random picks are seldom balanced.
    class_weight: str | None = "balanced"
    C: float = 4.0
    # Fit the vocabulary, IDF and the dense projection on the unlabeled texts passed to
    # ``fit(corpus=...)`` as well as the labeled ones. Measured in the bench only (its
    # ``corpus`` model: within the noise); the training job passes no corpus.
    corpus: bool = False


DEFAULT_OPTIONS = TextOptions()
# The model before issue #25's second round: words and word pairs, intercept, C=4.
WORDS_ONLY = TextOptions(chars=None, intercept=True, class_weight=None)


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

    def __init__(self, spec: Spec, options: TextOptions | None = None) -> None:
        super().__init__(spec)
        self.options = options or DEFAULT_OPTIONS
        self.char_vectorizer = None

    def _classifier(self):
        from sklearn.linear_model import LogisticRegression

        if self.spec.multi:
            # One binary model per choice: each needs its intercept for the choice's base
            # rate, and the bench measured single choices only. The model before.
            return super()._classifier()
        return LogisticRegression(
            max_iter=2000,
            C=self.options.C,
            fit_intercept=self.options.intercept,
            class_weight=self.options.class_weight,
        )

    def fit(self, inputs: list, targets: list, corpus: list | None = None) -> None:
        """Fit on the labeled ``inputs``; with ``options.corpus``, the vocabulary, IDF and
        dense projection also see ``corpus`` (unlabeled texts of the same project)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(inputs) + list(corpus or []) if self.options.corpus else inputs
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=200_000
        ).fit(texts)
        self.char_vectorizer = None
        if self.options.chars:
            self.char_vectorizer = TfidfVectorizer(
                sublinear_tf=True,
                analyzer="char_wb",
                ngram_range=self.options.chars,
                min_df=1,
                max_features=200_000,
            ).fit(texts)
        self._fit_matrix(self._matrix(inputs), targets)
        # A small dense projection for the diversity sampling of active learning.
        matrix = self._matrix(texts)
        dims = min(32, matrix.shape[1] - 1, len(texts) - 1)
        self.reducer = (
            TruncatedSVD(n_components=dims, random_state=0).fit(matrix) if dims >= 2 else None
        )

    def _matrix(self, inputs: list):
        """TF-IDF rows: words and word pairs, with character n-grams side by side, each
        row of unit length. (A model file from before character n-grams has no
        ``char_vectorizer``.)"""
        words = self.vectorizer.transform(inputs)
        chars = getattr(self, "char_vectorizer", None)
        if chars is None:
            return words
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize

        return normalize(hstack([words, chars.transform(inputs)], format="csr"))

    def predict(self, inputs: list):
        return self._predict_matrix(self._matrix(inputs))

    def features(self, inputs: list):
        if self.reducer is None:
            return None
        return self.reducer.transform(self._matrix(inputs))

    def predict_with_features(self, inputs: list):
        """``predict`` and ``features`` with one TF-IDF transform."""
        matrix = self._matrix(inputs)
        results, scores, proba = self._predict_matrix(matrix)
        features = self.reducer.transform(matrix) if self.reducer is not None else None
        return results, scores, proba, features

    def evaluate(self, inputs: list, targets: list) -> dict:
        return self._evaluate(self.predict(inputs)[0], targets)
