"""Named entities: Text with Labels. A per-token linear classifier over BIO tags
(word shape, affixes and neighbours as features); predicted tokens are merged back into
Label Studio ``labels`` spans with character offsets. Evaluated by span F1."""

from __future__ import annotations

import re

import numpy as np

from ml.builtin.base import BuiltinModel, Spec, control_for
from projects.label_config import ParsedConfig

TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
OUTSIDE = "O"


def tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]


def _shape(word: str) -> str:
    shape = re.sub(r"[A-Z]", "X", word)
    shape = re.sub(r"[a-z]", "x", shape)
    return re.sub(r"\d", "d", shape)[:6]


def token_features(toks: list[tuple[int, int, str]]) -> list[dict]:
    out = []
    for i, (_, _, word) in enumerate(toks):
        low = word.lower()
        feats = {
            "bias": 1.0,
            "w=" + low: 1.0,
            "p3=" + low[:3]: 1.0,
            "s3=" + low[-3:]: 1.0,
            "shape=" + _shape(word): 1.0,
            "title": float(word.istitle()),
            "upper": float(word.isupper()),
            "digit": float(word.isdigit()),
        }
        for offset in (-2, -1, 1, 2):
            j = i + offset
            neighbour = toks[j][2] if 0 <= j < len(toks) else "<pad>"
            feats[f"w{offset:+d}=" + neighbour.lower()] = 1.0
            feats[f"t{offset:+d}"] = float(neighbour.istitle())
        out.append(feats)
    return out


class NerTagger(BuiltinModel):
    name = "ner"
    title = "Named entities (per-token linear model, BIO tags)"
    needs = "a Text object with a Labels control (two or more fixed labels)"
    metric = "f1"

    @classmethod
    def spec_for(cls, parsed: ParsedConfig) -> Spec:
        return control_for(parsed, control_types={"Labels"}, object_types={"Text"}, needs=cls.needs)

    def _value(self, data: dict) -> str:
        value = super()._value(data)
        return value if isinstance(value, str) else str(value)

    def target(self, result: list):
        spans = []
        for item in result or []:
            if item.get("from_name") != self.spec.from_name or item.get("type") != "labels":
                continue
            value = item.get("value") or {}
            labels = [label for label in value.get("labels") or [] if label in self.spec.labels]
            if labels and isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
                spans.append((value["start"], value["end"], labels[0]))
        # An annotation with no spans is a valid "nothing here" example.
        return tuple(sorted(spans))

    @staticmethod
    def _tags(toks, spans) -> list[str]:
        tags = [OUTSIDE] * len(toks)
        for start, end, label in spans:
            first = True
            for i, (a, b, _) in enumerate(toks):
                if a < end and b > start:
                    tags[i] = ("B-" if first else "I-") + label
                    first = False
        return tags

    def fit(self, inputs: list, targets: list) -> None:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression

        rows, tags = [], []
        for text, spans in zip(inputs, targets, strict=True):
            toks = tokens(text)
            rows.extend(token_features(toks))
            tags.extend(self._tags(toks, spans))
        self.vectorizer = DictVectorizer()
        matrix = self.vectorizer.fit_transform(rows)
        self.single = None
        if len(set(tags)) < 2:
            self.single = tags[0] if tags else OUTSIDE
            return
        self.classifier = LogisticRegression(max_iter=2000, C=2.0).fit(matrix, tags)

    def _spans(self, text, toks, tags, confidence):
        results, current = [], None
        for (start, end, _), tag, conf in zip(toks, tags, confidence, strict=True):
            label = tag[2:] if tag != OUTSIDE else None
            if label and current and current["label"] == label and tag.startswith("I-"):
                current["end"] = end
                current["conf"].append(conf)
                continue
            if current:
                results.append(current)
            current = (
                {"start": start, "end": end, "label": label, "conf": [conf]} if label else None
            )
        if current:
            results.append(current)
        return [
            {
                "from_name": self.spec.from_name,
                "to_name": self.spec.to_name,
                "type": "labels",
                "value": {
                    "start": span["start"],
                    "end": span["end"],
                    "text": text[span["start"] : span["end"]],
                    "labels": [span["label"]],
                },
                "score": float(np.mean(span["conf"])),
            }
            for span in results
        ]

    def predict(self, inputs: list):
        results, scores, rows = [], [], []
        classes = 2 if self.single is not None else len(self.classifier.classes_)
        for text in inputs:
            toks = tokens(text)
            if not toks:
                results.append([])
                scores.append(1.0)
                rows.append(np.eye(classes)[0])
                continue
            if self.single is not None:
                tags, proba = [self.single] * len(toks), np.tile(np.eye(classes)[0], (len(toks), 1))
            else:
                proba = self.classifier.predict_proba(
                    self.vectorizer.transform(token_features(toks))
                )
                tags = list(self.classifier.classes_[proba.argmax(axis=1)])
            confidence = proba.max(axis=1)
            results.append(self._spans(text, toks, tags, confidence))
            scores.append(float(confidence.mean()))
            rows.append(proba[int(confidence.argmin())])  # the least sure token
        return results, scores, np.vstack(rows) if rows else None

    def evaluate(self, inputs: list, targets: list) -> dict:
        predicted = self.predict(inputs)[0]
        true_positive = guessed = actual = 0
        for result, spans in zip(predicted, targets, strict=True):
            guess = set(self.target(result))
            truth = set(spans)
            true_positive += len(guess & truth)
            guessed += len(guess)
            actual += len(truth)
        precision = true_positive / guessed if guessed else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"f1": f1, "precision": precision, "recall": recall}
