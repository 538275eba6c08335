"""Which tasks enter training: agreement at or above the project's threshold (or a
single annotation, which has no agreement), and never a Benchmark QA task."""

import pytest

from ml.selectors import training_annotation_count, training_examples
from tasks.models import Task

pytestmark = pytest.mark.django_db


def test_agreement_threshold_and_benchmarks_gate_training(project, text_tasks):
    labeled = list(
        Task.objects.filter(project=project, is_labeled=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    assert training_annotation_count(project=project) == 30

    project.agreement_threshold = 0.6
    project.save(update_fields=["agreement_threshold"])
    Task.objects.filter(pk=labeled[0]).update(agreement=0.5)  # annotators disagreed
    Task.objects.filter(pk=labeled[1]).update(agreement=0.6)  # exactly the threshold
    Task.objects.filter(pk=labeled[2]).update(is_benchmark=True)

    used = {task_id for task_id, _data, _result in training_examples(project=project)}
    assert labeled[0] not in used
    assert labeled[1] in used
    assert labeled[2] not in used
    assert training_annotation_count(project=project) == 28
