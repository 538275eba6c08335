"""Task locks: a task handed to a user in the Label Stream is reserved for them until
``expire_at`` (``LABELHUB_TASK_LOCK_TTL`` seconds, 10 minutes by default).

A user holds at most one lock per project: taking a new one drops the others. A lock
counts against the task's overlap while it is live; an expired lock counts for nothing
and is deleted the next time its user asks for a task. Submitting or skipping the task
releases the lock (``annotations.services.annotation_create`` calls ``lock_release``).

These functions run inside the caller's transaction; ``annotations.stream.next_task`` holds
the task row lock while it takes a task lock, which is what makes a lock safe against
a concurrent ``next_task`` (see there).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labelhub.prepared import Prepared
from tasks.models import Task, TaskLock


def lock_ttl() -> timedelta:
    return timedelta(seconds=settings.LABELHUB_TASK_LOCK_TTL)


def live_locks_by_others(*, user, now: datetime) -> Coalesce:
    """An expression for a task queryset: how many live locks others hold on the task.
    Served by the unique index (task_id, user_id)."""
    locks = (
        TaskLock.objects.filter(task=OuterRef("pk"), expire_at__gt=now)
        .exclude(user=user)
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(locks), 0)


_LOCK_OF_USER = Prepared(
    lambda m: TaskLock.objects.filter(
        user_id=m.int("user"), task__project_id=m.int("project"), expire_at__gt=m.datetime("now")
    ).order_by("-expire_at")[:1]
)


def lock_of_user(*, project, user, now: datetime) -> TaskLock | None:
    """The user's live lock in this project, if any (asked on every next-task call: a
    query compiled once, ``labelhub.prepared``)."""
    return _LOCK_OF_USER.first(user=user.pk, project=project.pk, now=now)


def lock_take(*, task: Task, user, now: datetime) -> TaskLock:
    """Lock ``task`` for ``user`` and drop the user's other locks in the project."""
    user_locks(project_id=task.project_id, user=user).delete()
    return TaskLock.objects.create(task=task, user=user, expire_at=now + lock_ttl())


def lock_extend(*, lock: TaskLock, now: datetime) -> TaskLock:
    """Move the lock's expiry on: ``filter(pk=...).update(expire_at=...)``, written out
    (asked on every next-task call that resumes a task; the ORM's update took most of
    that call's statements' time to build)."""
    lock.expire_at = now + lock_ttl()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(TaskLock._meta.db_table)} SET {quote('expire_at')} = %s "
            f"WHERE {quote('id')} = %s",
            [connection.ops.adapt_datetimefield_value(lock.expire_at), lock.pk],
        )
    return lock


def lock_release(*, task_id: int, user) -> int:
    """Release the user's lock on the task (after a submit or a skip)."""
    if user is None or not getattr(user, "pk", None):
        return 0
    # ``TaskLock.objects.filter(task_id=..., user=...).delete()`` written out: nothing
    # refers to a lock and no signal listens, so the ORM's delete is this one statement
    # too, after a deletion collector that cost more than the DELETE (every submit).
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(TaskLock._meta.db_table)} "
            f"WHERE {quote('task_id')} = %s AND {quote('user_id')} = %s",
            [task_id, user.pk],
        )
        return cursor.rowcount


def user_locks(*, project_id: int, user) -> QuerySet:
    return TaskLock.objects.filter(user=user, task__project_id=project_id)


def locks_release_for_user(*, project_id: int, user) -> int:
    """Drop every lock the user holds in the project (they left the stream)."""
    deleted, _ = user_locks(project_id=project_id, user=user).delete()
    return deleted
