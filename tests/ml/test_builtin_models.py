"""The built-in models on their own: which configs they fit, and that they learn."""

import random

import numpy as np
import pytest
from PIL import Image

from ml.builtin import MODELS, uncertainty
from ml.builtin.image import ImageClassifier, image_features
from ml.builtin.ner import NerTagger
from ml.builtin.text import WORDS_ONLY, TextClassifier
from projects.label_config import parse_label_config
from projects.results import validate_result
from tests.factories import (
    IMAGE_CHOICES_CONFIG,
    IMAGE_CONFIG,
    MULTI_CONFIG,
    NER_CONFIG,
    TEXT_CONFIG,
    sentiment_text,
)

HTML_CONFIG = """<View><HyperText name="page" value="$page"/>
  <Choices name="kind" toName="page"><Choice value="Spam"/><Choice value="Ham"/></Choices></View>"""
ONE_CHOICE = """<View><Text name="text" value="$text"/>
  <Choices name="c" toName="text"><Choice value="Only"/></Choices></View>"""


@pytest.mark.parametrize(
    "config, fits",
    [
        (TEXT_CONFIG, {"text-classifier"}),
        (HTML_CONFIG, {"text-classifier"}),
        (MULTI_CONFIG, {"text-classifier"}),
        (IMAGE_CHOICES_CONFIG, {"image-classifier"}),
        (NER_CONFIG, {"ner"}),
        (IMAGE_CONFIG, set()),  # rectangles: no built-in model
        (ONE_CHOICE, set()),  # a single choice cannot be learned
    ],
)
def test_fit_checks(config, fits):
    parsed = parse_label_config(config)
    got = {name for name, model in MODELS.items() if model.fit_check(parsed)[0]}
    assert got == fits
    for name in set(MODELS) - fits:
        fits_, why = MODELS[name].fit_check(parsed)
        assert not fits_ and why == MODELS[name].needs


def test_text_classifier_learns_and_answers_valid_results():
    parsed = parse_label_config(TEXT_CONFIG)
    model = TextClassifier(TextClassifier.spec_for(parsed))
    rng = random.Random(1)
    labels = ["Positive", "Negative"] * 40
    texts = [sentiment_text(rng, label) for label in labels]
    model.fit(model.inputs([{"text": t} for t in texts[:60]]), labels[:60])
    results, scores, proba = model.predict(model.inputs([{"text": t} for t in texts[60:]]))
    assert model.evaluate(texts[60:], labels[60:])["accuracy"] >= 0.9
    assert all(0.0 <= s <= 1.0 for s in scores) and proba.shape == (20, 2)
    for result in results:
        assert validate_result(parsed, result) == []
    assert model.features(texts[:5]).shape[0] == 5


def test_text_classifier_character_ngrams_reach_words_never_labeled():
    """Character n-grams within words: a text that shares no whole word with the labels
    still gets the class of its word stems; with words only it gets the prior."""
    parsed = parse_label_config(TEXT_CONFIG)
    texts = ["configure the network", "configuration of routers", "network configurator"] * 3
    texts += ["paint a picture", "painting in colour", "picture painter"] * 3
    labels = ["Positive"] * 9 + ["Negative"] * 9
    unseen = ["reconfigured", "repainted"]
    model = TextClassifier(TextClassifier.spec_for(parsed))
    model.fit(texts, labels)
    assert [r[0]["value"]["choices"] for r in model.predict(unseen)[0]] == [
        ["Positive"],
        ["Negative"],
    ]
    words = TextClassifier(TextClassifier.spec_for(parsed), WORDS_ONLY)
    words.fit(texts, labels)
    proba = words.predict(unseen)[2]
    assert np.allclose(proba[0], proba[1])  # nothing known: the same answer for both


def test_text_classifier_without_intercept_is_unsure_of_the_unknown():
    """No intercept: a text with no known feature gets equal probabilities (the most
    uncertain for active learning), not the share of the labels seen so far."""
    parsed = parse_label_config(TEXT_CONFIG)
    model = TextClassifier(TextClassifier.spec_for(parsed))
    model.fit(["good movie", "great film", "fine", "bad movie"], ["Positive"] * 3 + ["Negative"])
    proba = model.predict(["  "])[2]
    assert np.allclose(proba, [[0.5, 0.5]])


def test_text_model_file_from_before_character_ngrams_still_predicts():
    parsed = parse_label_config(TEXT_CONFIG)
    model = TextClassifier(TextClassifier.spec_for(parsed), WORDS_ONLY)
    model.fit(["good movie", "bad movie", "great film", "awful film"], ["Positive", "Negative"] * 2)
    del model.char_vectorizer, model.options  # what an older pickle holds
    results, _scores, proba, features = model.predict_with_features(["good film"])
    assert results[0][0]["value"]["choices"] == ["Positive"] and proba.shape == (1, 2)


def test_multi_choice_text_classifier():
    parsed = parse_label_config(MULTI_CONFIG)
    model = TextClassifier(TextClassifier.spec_for(parsed))
    assert model.spec.multi
    vocab = {"sport": "goal match team", "money": "bank cash price", "food": "pizza bread soup"}
    rng = random.Random(2)
    texts, targets = [], []
    for _ in range(80):
        chosen = tuple(sorted(rng.sample(sorted(vocab), rng.choice([1, 2]))))
        texts.append(" ".join(vocab[c] for c in chosen))
        targets.append(chosen)
    model.fit(texts[:60], targets[:60])
    results, _, proba = model.predict(texts[60:])
    assert model.evaluate(texts[60:], targets[60:])["f1"] >= 0.9
    assert proba.shape == (20, 2)
    assert all(validate_result(parsed, r) == [] for r in results)


def _digit_image(digit: int, rng: random.Random) -> Image.Image:
    image = Image.new("L", (24, 24), 0)
    pixels = image.load()
    for _ in range(3):
        for y in range(24):
            for x in range(24):
                on = {
                    0: (x - 12) ** 2 + (y - 12) ** 2 in range(40, 90),
                    1: abs(x - 12) < 2,
                    2: abs(x - y) < 2,
                }[digit]
                if on:
                    pixels[x, y] = 200 + rng.randint(0, 55)
    return image.rotate(rng.uniform(-15, 15))


def test_image_features_and_classifier():
    parsed = parse_label_config(IMAGE_CHOICES_CONFIG)
    model = ImageClassifier(ImageClassifier.spec_for(parsed))
    rng = random.Random(3)
    digits = [i % 3 for i in range(60)]
    features = np.vstack([image_features(_digit_image(d, rng)) for d in digits])
    targets = [str(d) for d in digits]
    model.fit(features[:45], targets[:45])
    assert model.evaluate(features[45:], targets[45:])["accuracy"] >= 0.9
    results, _, _ = model.predict(features[45:])
    assert all(validate_result(parsed, r) == [] for r in results)


def _ner_example(rng: random.Random):
    people = ["Alice Smith", "Bob Jones", "Carol White"]
    orgs = ["Acme Corp", "Globex Inc", "Initech Ltd"]
    person, org = rng.choice(people), rng.choice(orgs)
    text = f"Yesterday {person} joined {org} as a manager ."
    spans = [
        (text.index(person), text.index(person) + len(person), "PER"),
        (text.index(org), text.index(org) + len(org), "ORG"),
    ]
    return text, tuple(sorted(spans))


def test_ner_tagger_merges_tokens_into_spans():
    parsed = parse_label_config(NER_CONFIG)
    model = NerTagger(NerTagger.spec_for(parsed))
    rng = random.Random(4)
    examples = [_ner_example(rng) for _ in range(40)]
    texts = [t for t, _ in examples]
    spans = [s for _, s in examples]
    model.fit(texts[:30], spans[:30])
    metrics = model.evaluate(texts[30:], spans[30:])
    assert metrics["f1"] >= 0.9, metrics
    results, scores, _ = model.predict(texts[30:31])
    assert {r["value"]["labels"][0] for r in results[0]} == {"PER", "ORG"}
    for r in results[0]:
        assert r["value"]["text"] == texts[30][r["value"]["start"] : r["value"]["end"]]
    assert validate_result(parsed, results[0]) == []


def test_uncertainty_measures_rank_the_unsure_first():
    proba = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25], [0.6, 0.39, 0.01]])
    for measure in ("least-confidence", "margin", "entropy"):
        values = uncertainty(proba, measure)
        assert values[0] < values[1] and values[0] < values[2]
        assert (values >= 0).all() and (values <= 1.0001).all()
