"""A real label-studio-ml backend class for the protocol tests (served by the package's
own ``label-studio-ml init`` / ``start``). It labels by keyword and records the webhook
events it receives in $EVENTS_FILE."""

import json
import os
import time

from label_studio_ml.model import LabelStudioMLBase


def _choice(value):
    return [
        {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [value]},
        }
    ]


class KeywordModel(LabelStudioMLBase):
    def predict(self, tasks, **kwargs):
        out = []
        for task in tasks:
            text = task["data"].get("text", "")
            if "explode" in text:
                raise IndexError("the keyword model exploded")
            if "slow" in text:
                time.sleep(3)
            if "broken" in text:
                out.append({"result": _choice("NotAChoice"), "score": 0.1})
                continue
            label = "Positive" if "good" in text else "Negative"
            out.append({"result": _choice(label), "score": 0.75, "model_version": "keyword-1"})
        return out

    def process_event(self, event, data, job_id, additional_params):
        with open(os.environ["EVENTS_FILE"], "a") as handle:
            handle.write(json.dumps({"event": event, "keys": sorted(data)}) + "\n")
        return {"event": event}
