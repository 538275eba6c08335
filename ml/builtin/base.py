"""What every built-in model shares: the fit check, the training examples taken from
annotation results, a split kept stable by task id, and uncertainty from probabilities."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from projects.label_config import ParsedConfig


class NotFit(ValueError):
    """The model does not fit the labeling config; ``str(e)`` names what it needs."""


@dataclass(frozen=True)
class Spec:
    """Which parts of the config a model reads and writes."""

    from_name: str  # the control tag (Choices, Labels)
    to_name: str  # the object tag (Text, HyperText, Image)
    data_key: str  # the task data key the object reads
    labels: tuple[str, ...]
    multi: bool = False
    result_type: str = "choices"

    def as_dict(self) -> dict:
        return asdict(self)


def control_for(
    parsed: ParsedConfig, *, control_types: set[str], object_types: set[str], needs: str
) -> Spec:
    """The first control of ``control_types`` pointing at an object of ``object_types``
    with fixed labels, or NotFit saying what is needed."""
    for name, control in parsed.controls.items():
        if control.get("type") not in control_types:
            continue
        for to_name in control.get("to_name") or []:
            obj = parsed.objects.get(to_name)
            if (
                not obj
                or obj.get("type") not in object_types
                or obj.get("value_list")
                or obj.get("value") is None
            ):
                continue
            labels = tuple(control.get("labels") or [])
            if control.get("dynamic") or len(labels) < 2:
                continue
            return Spec(
                from_name=name,
                to_name=to_name,
                data_key=obj["value"],
                labels=labels,
                multi=control.get("choice") == "multiple",
                result_type=control["type"].lower(),
            )
    raise NotFit(needs)


def held_out(task_id: int) -> bool:
    """The evaluation split: about one task in five, fixed by the task id, so the same
    tasks are held out in every training run and versions compare fairly."""
    return (task_id * 2654435761) % 2**32 % 5 == 0


def uncertainty(proba: np.ndarray, measure: str) -> np.ndarray:
    """Per-row uncertainty in [0, 1] (higher = less sure) from class probabilities."""
    proba = np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)
    if proba.ndim == 1:
        proba = proba[:, None]
    classes = proba.shape[1]
    if classes < 2:
        return np.zeros(proba.shape[0])
    if measure == "margin":
        top = np.sort(proba, axis=1)
        return 1.0 - (top[:, -1] - top[:, -2])
    if measure == "entropy":
        return -(proba * np.log(proba)).sum(axis=1) / np.log(classes)
    return (1.0 - proba.max(axis=1)) * classes / (classes - 1)


class BuiltinModel:
    """A trainable model. Subclasses set ``name``, ``title``, ``needs`` and implement
    ``spec_for``, ``targets``, ``fit``, ``predict`` and ``evaluate``."""

    name = ""
    title = ""
    needs = ""
    metric = "accuracy"

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    @classmethod
    def spec_for(cls, parsed: ParsedConfig) -> Spec:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def fit_check(cls, parsed: ParsedConfig) -> tuple[bool, str]:
        """(fits, why): why names what the model needs when it does not fit."""
        try:
            spec = cls.spec_for(parsed)
        except NotFit as exc:
            return False, str(exc)
        return True, f"reads {spec.to_name} (${spec.data_key}), writes {spec.from_name}"

    # Training data -------------------------------------------------------------------

    def target(self, result: list) -> object | None:
        """The training target in one annotation's result, or None if it has none."""
        raise NotImplementedError

    def inputs(self, datas: list[dict]) -> list:
        """The model inputs for task data dicts (texts, images)."""
        return [self._value(data) for data in datas]

    def _value(self, data: dict):
        value = data.get(self.spec.data_key) if isinstance(data, dict) else None
        return "" if value is None else value

    # Model -----------------------------------------------------------------------------

    def fit(self, inputs: list, targets: list) -> None:
        raise NotImplementedError

    def predict(self, inputs: list) -> tuple[list[list[dict]], list[float], np.ndarray | None]:
        """Label Studio results, scores, and class probabilities (None if not per task)."""
        raise NotImplementedError

    def features(self, inputs: list) -> np.ndarray | None:
        """A dense, small feature matrix for diversity sampling (None: not available)."""
        return None

    def predict_with_features(self, inputs: list):
        """``predict`` plus ``features``; models that can share work override it."""
        return (*self.predict(inputs), self.features(inputs))

    def evaluate(self, inputs: list, targets: list) -> dict:
        raise NotImplementedError
