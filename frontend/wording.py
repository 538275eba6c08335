"""Plain words for what the API answers in Label Studio's wording (which compatibility
requires there): the pages show these instead of ``from_name=...`` field talk.

``orphan_sentence`` has a JavaScript twin in static/frontend/config.js (orphanSentence),
for the list the settings page shows while the config is edited; keep the two alike."""

from collections.abc import Mapping
from typing import Any

SOURCES = (("annotations", "annotation"), ("drafts", "draft"), ("predictions", "prediction"))

CONFIG_REFUSED = "Not saved: the new config has no place for work already done."


def counts_sentence(orphan: Mapping[str, Any]) -> str:
    """``3 annotations``, ``3 annotations and 1 draft``, ``1 annotation, 2 drafts and 4
    predictions``."""
    parts = [
        f"{orphan[key]} {key if orphan[key] != 1 else one}"
        for key, one in SOURCES
        if orphan.get(key)
    ]
    if len(parts) < 2:
        return "".join(parts) or "no saved work"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def orphan_sentence(orphan: Mapping[str, Any]) -> str:
    """One item of ``projects.results.config_orphans`` (the API's ``errors``) in words:
    which label or control the new config drops and how much work holds it."""
    counts = counts_sentence(orphan)
    control, target, kind = orphan["from_name"], orphan["to_name"], orphan["type"]
    one = counts.startswith("1 ") and " and " not in counts
    reason = orphan.get("reason")
    if reason == "label":
        return f'The label "{orphan["label"]}" of control "{control}" is used in {counts}.'
    if reason == "type":
        held = "holds" if one else "hold"
        return f'Control "{control}" no longer gives "{kind}" results; {counts} {held} them.'
    uses = "uses" if one else "use"
    if reason == "to_name":
        return f'Control "{control}" no longer labels "{target}"; {counts} {uses} it there.'
    return f'Control "{control}" is not in the new config; {counts} {uses} it.'
