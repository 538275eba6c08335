"""Label Studio converter items, built from LabelHub's export task dicts.

The converter (label_studio_sdk.converter) turns each task into one *item* per
non-cancelled annotation, newest first: ``{"id", "input", "output", "completed_by",
"annotation_id", "created_at", "updated_at", "lead_time", "was_cancelled"}``, where
``output`` maps each control name to its result values, each tagged with the control's
type (``"Choices"``, ``"RectangleLabels"``...) and the image's original size. A task with
no annotations gives one item with an empty output; a task whose annotations are all
cancelled gives none. Every non-JSON format is written from these items, so the rules
match the converter's in one place.
"""

from collections.abc import Iterator
from typing import Any


def annotator(annotation: dict, *, by: str) -> Any:
    """The annotator as the export names them: email (the default) or user id, from
    ``completed_by`` as the JSON export writes it (``{"id", "email", ...}``)."""
    who = annotation.get("completed_by")
    if not isinstance(who, dict):
        return who
    if by == "id":
        return who.get("id")
    return who.get("email") or who.get("id")


def _empty_item(task: dict) -> dict:
    return {
        "id": task["id"],
        "input": task["data"],
        "output": {},
        "completed_by": None,
        "annotation_id": None,
        "created_at": None,
        "updated_at": None,
        "lead_time": None,
        "was_cancelled": None,
    }


def task_items(task: dict, schema: dict[str, dict], *, by: str = "email") -> Iterator[dict]:
    annotations = task.get("annotations") or []
    if not annotations:
        yield _empty_item(task)
        return
    done = [a for a in annotations if not a.get("was_cancelled")]
    # Newest first, as the converter sorts (a stable sort on the ISO timestamps).
    done.sort(key=lambda a: a.get("created_at") or "", reverse=True)
    for annotation in done:
        outputs: dict[str, list[dict]] = {}
        for item in annotation.get("result") or []:
            from_name = item.get("from_name")
            control = schema.get(from_name) if from_name else None
            if control is None:
                continue
            value = {**(item.get("value") or {}), "type": control["type"]}
            if "original_width" in item:
                value["original_width"] = item["original_width"]
            if "original_height" in item:
                value["original_height"] = item["original_height"]
            if "id" in item:
                value["id"] = item["id"]
            if "parentID" in item:
                value["parentID"] = item["parentID"]
            outputs.setdefault(from_name, []).append(value)
        yield {
            "id": task["id"],
            "input": task["data"],
            "output": outputs,
            "completed_by": annotator(annotation, by=by),
            "annotation_id": annotation.get("id"),
            "created_at": annotation.get("created_at"),
            "updated_at": annotation.get("updated_at"),
            "lead_time": annotation.get("lead_time"),
            "was_cancelled": annotation.get("was_cancelled"),
        }


_DROPPED = ("type", "id", "parentID")


def pretty_rows(task: dict, schema: dict[str, dict]) -> Iterator[tuple[dict | None, dict]]:
    """JSON_MIN's and CSV's view of a task: ``(annotation, {control: pretty value})`` in
    ``task_items`` order (``None, {}`` for a task without annotations). The converter's
    pretty print: a single choice or text as a plain string, anything else as the list
    of value dicts (without ``type``, ``id``, ``parentID``). Built straight from the
    result instead of through ``task_items`` (a third of those exports' Python time)."""
    annotations = task.get("annotations") or []
    if not annotations:
        yield None, {}
        return
    done = [a for a in annotations if not a.get("was_cancelled")]
    if len(done) > 1:
        done.sort(key=lambda a: a.get("created_at") or "", reverse=True)
    for annotation in done:
        outputs: dict[str, list] = {}
        kinds: dict[str, str] = {}
        for item in annotation.get("result") or []:
            from_name = item.get("from_name")
            control = schema.get(from_name) if from_name else None
            if control is None:
                continue
            tag_type = kinds[from_name] = control["type"]
            body = {k: v for k, v in (item.get("value") or {}).items() if k not in _DROPPED}
            if "original_width" in item:
                body["original_width"] = item["original_width"]
            if "original_height" in item:
                body["original_height"] = item["original_height"]
            if tag_type == "Choices" and len(body.get("choices") or []) == 1:
                value = body["choices"][0]
            elif tag_type == "TextArea" and len(body.get("text") or []) == 1:
                value = body["text"][0]
            else:
                value = body
            outputs.setdefault(from_name, []).append(value)
        for name, values in outputs.items():
            if len(values) == 1 and kinds[name] in ("Choices", "TextArea"):
                outputs[name] = values[0]
        yield annotation, outputs
