"""``OrmWriter``: ``bulk_create`` in batches, where neither COPY nor SQLite's
``executemany`` path applies (``importers.bulk.writer_for``)."""

from annotations.models import Annotation, Prediction
from importers.bulk.base import Writer, mean_score
from importers.records import TaskRow
from tasks.models import Task


class OrmWriter(Writer):
    """``bulk_create`` in batches: the fallback where COPY can't fill a table (SQLite has
    ``SqliteWriter``, the same rows as tuples)."""

    def write(self, rows: list[TaskRow], *, first_index: int = 0) -> None:
        self.authors.prepare(rows)
        now, stats = self.now, self.stats
        for start in range(0, len(rows), self.batch):
            batch = rows[start : start + self.batch]
            tasks = []
            for row in batch:
                done, cancelled, labeled = self._task_counts(row)
                tasks.append(
                    Task(
                        project=self.project,
                        data=row.data,
                        meta=row.meta,
                        total_annotations=done,
                        cancelled_annotations=cancelled,
                        total_predictions=len(row.predictions),
                        prediction_score=mean_score(row.predictions),
                        is_labeled=labeled,
                        file_upload_id=self.file_upload_id,
                        created_at=now,
                        updated_at=now,
                    )
                )
            Task.objects.bulk_create(tasks, batch_size=self.batch)
            annotations, predictions = [], []
            for task, row in zip(tasks, batch, strict=True):
                for item in row.annotations:
                    author, result, was_cancelled, ground_truth, lead_time = self._annotation(item)
                    annotations.append(
                        Annotation(
                            task=task,
                            project=self.project,
                            completed_by_id=author,
                            result=result,
                            was_cancelled=was_cancelled,
                            ground_truth=ground_truth,
                            lead_time=lead_time,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                for item in row.predictions:
                    model_version, score, result = self._prediction(item)
                    predictions.append(
                        Prediction(
                            task=task,
                            project=self.project,
                            result=result,
                            score=score,
                            model_version=model_version,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            Annotation.objects.bulk_create(annotations, batch_size=self.batch)
            Prediction.objects.bulk_create(predictions, batch_size=self.batch)
            stats.tasks += len(tasks)
            stats.annotations += len(annotations)
            stats.predictions += len(predictions)
            self.ids.extend(task.pk for task in tasks)
