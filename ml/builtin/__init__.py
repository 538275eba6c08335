"""The built-in models: scikit-learn, trained on the worker from the project's annotations.

Each model says whether it fits a labeling config (``fit_check``) and, when it does,
which control and object it reads (a ``Spec``). ``MODELS`` is the registry by name, the
value of ``MLBackend.model``.
"""

from ml.builtin.base import BuiltinModel, NotFit, Spec, uncertainty
from ml.builtin.image import ImageClassifier
from ml.builtin.ner import NerTagger
from ml.builtin.text import TextClassifier

MODELS: dict[str, type[BuiltinModel]] = {
    TextClassifier.name: TextClassifier,
    ImageClassifier.name: ImageClassifier,
    NerTagger.name: NerTagger,
}

__all__ = ["MODELS", "BuiltinModel", "NotFit", "Spec", "uncertainty"]
