"""The locust users of bench/load.py (run by it: ``locust --headless``, loopback only).

Reads the tokens and project id from the JSON file named by ``LOAD_CONFIG`` and writes
what it saw (annotation ids answered 201, reworks saved, 5xx count) to ``LOAD_RESULT``
at the end.

``LOAD_THINK`` ("2,4" by default) is an annotator's pause between tasks in seconds, a
range: the time a person spends on a text classification before the next request (the
submits report a lead time of 3 s). "0.2,1" is the stress pace, far beyond a person's.
"""

import json
import os
import random

from locust import HttpUser, between, events, task

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read())
PROJECT = CONFIG["project"]
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "2,4").split(","))
CREATED: list[int] = []
REWORKED: list[int] = []
SERVER_ERRORS: list[str] = []
RESULT = [
    {
        "id": "r1",
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
    }
]


@events.request.add_listener
def _count_5xx(request_type, name, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        SERVER_ERRORS.append(f"{request_type} {name} {status}")


@events.test_stop.add_listener
def _write_result(**kwargs):
    with open(os.environ["LOAD_RESULT"], "w") as fh:
        json.dump({"created": CREATED, "reworked": REWORKED, "server_errors": SERVER_ERRORS}, fh)


def _tokens(role: str):
    tokens = list(CONFIG[role])
    random.shuffle(tokens)
    return tokens


_POOLS = {role: _tokens(role) for role in ("annotators", "reviewers", "admins")}


class _User(HttpUser):
    abstract = True
    role = ""

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {_POOLS[self.role].pop()}"


class Annotator(_User):
    fixed_count = 50
    role = "annotators"
    wait_time = between(*THINK)

    @task
    def label(self):
        with self.client.get(
            f"/api/projects/{PROJECT}/next/", name="next", catch_response=True
        ) as response:
            if response.status_code == 404:
                response.success()
                return
            if response.status_code != 200:
                response.failure(f"next {response.status_code}")
                return
            body = response.json()
            task_id, rework = body["id"], body.get("rework")
        if rework is not None:
            # A rejected annotation of this annotator's, handed back first: the editor
            # saves it onto the same annotation (PATCH), as the Label Stream page does.
            self.client.patch(
                f"/api/annotations/{rework['annotation']}/",
                json={"result": RESULT, "lead_time": 3.0},
                name="rework",
            )
            REWORKED.append(rework["annotation"])
            return
        skip = random.random() < 0.1
        body = {"result": [] if skip else RESULT, "was_cancelled": skip, "lead_time": 3.0}
        with self.client.post(
            f"/api/tasks/{task_id}/annotations/", json=body, name="submit", catch_response=True
        ) as response:
            if response.status_code == 201:
                CREATED.append(response.json()["id"])
            else:
                response.failure(f"submit {response.status_code}")


class Reviewer(_User):
    fixed_count = 5
    role = "reviewers"
    wait_time = between(0.5, 2.0)

    @task
    def review(self):
        with self.client.get(
            f"/api/projects/{PROJECT}/verify/next/", name="verify next", catch_response=True
        ) as response:
            if response.status_code == 204:
                response.success()
                return
            if response.status_code != 200:
                response.failure(f"verify {response.status_code}")
                return
            annotation_id = response.json()["annotation"]["id"]
        self.client.post(
            f"/api/annotations/{annotation_id}/reviews/",
            json={"accepted": random.random() < 0.8},
            name="review",
        )


class Admin(_User):
    fixed_count = 1
    role = "admins"
    wait_time = between(1.0, 3.0)

    @task
    def filter_data_manager(self):
        query = {
            "filters": {
                "conjunction": "and",
                "items": [
                    {
                        "filter": "filter:tasks:data.text",
                        "operator": "contains",
                        "type": "String",
                        "value": str(random.randint(1, 999)),
                    },
                    {
                        "filter": "filter:tasks:total_annotations",
                        "operator": "greater_or_equal",
                        "type": "Number",
                        "value": random.randint(0, 1),
                    },
                ],
            }
        }
        self.client.get(
            "/api/tasks/",
            params={"project": PROJECT, "query": json.dumps(query), "page_size": 30},
            name="dm filter",
        )
