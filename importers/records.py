"""Turn Label Studio task records into rows to insert, or into located errors.

A record is ``{"data": {...}, "annotations"?, "completions"?, "predictions"?, "meta"?}``;
without ``data`` the whole object is the data. An input ``id`` is ignored. Every
problem is reported with the record's index, the field and the reason.
"""

from dataclasses import dataclass, field

from projects.label_config import ParsedConfig, validate_result


@dataclass(slots=True)
class TaskRow:
    data: dict
    meta: dict
    annotations: list[dict] = field(default_factory=list)
    predictions: list[dict] = field(default_factory=list)


def _error(index: int, field_name: str | None, message: str, result_id=None) -> dict:
    error = {"record": index, "field": field_name, "message": message}
    if result_id is not None:
        error["result_id"] = result_id
    return error


def _results(parsed: ParsedConfig, index: int, where: str, result) -> list[dict]:
    if not isinstance(result, list):
        return [_error(index, f"{where}.result", "result must be a list")]
    return [
        _error(index, f"{where}.result", error.problem, error.result_id)
        for error in validate_result(parsed, result)
    ]


def _number(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def record_normalize(parsed: ParsedConfig, index: int, record) -> tuple[TaskRow | None, list]:
    if not isinstance(record, dict):
        return None, [_error(index, None, f"a task must be a JSON object, not {type(record).__name__}")]
    data = record["data"] if "data" in record else record
    if not isinstance(data, dict):
        return None, [_error(index, "data", "data must be a JSON object")]
    errors = [
        _error(index, f"data.{key}", f'the labeling config needs data key "{key}"')
        for key in parsed.data_keys
        if key not in data
    ]
    meta = record.get("meta") if "data" in record else None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        errors.append(_error(index, "meta", "meta must be a JSON object"))

    row = TaskRow(data=data, meta=meta if isinstance(meta, dict) else {})
    if "data" in record:
        key = "annotations" if "annotations" in record else "completions"
        annotations = record.get(key) or []
        if not isinstance(annotations, list):
            errors.append(_error(index, key, f"{key} must be a list"))
            annotations = []
        for position, annotation in enumerate(annotations):
            where = f"{key}[{position}]"
            if not isinstance(annotation, dict):
                errors.append(_error(index, where, "an annotation must be a JSON object"))
                continue
            cancelled = bool(annotation.get("was_cancelled", False))
            result = annotation.get("result", [])
            if not (cancelled and not result):
                errors.extend(_results(parsed, index, where, result))
            if not _number(annotation.get("lead_time")):
                errors.append(_error(index, f"{where}.lead_time", "lead_time must be a number"))
            row.annotations.append(annotation)
        predictions = record.get("predictions") or []
        if not isinstance(predictions, list):
            errors.append(_error(index, "predictions", "predictions must be a list"))
            predictions = []
        for position, prediction in enumerate(predictions):
            where = f"predictions[{position}]"
            if not isinstance(prediction, dict):
                errors.append(_error(index, where, "a prediction must be a JSON object"))
                continue
            errors.extend(_results(parsed, index, where, prediction.get("result", [])))
            if not _number(prediction.get("score")):
                errors.append(_error(index, f"{where}.score", "score must be a number"))
            row.predictions.append(prediction)
    return (None if errors else row), errors
