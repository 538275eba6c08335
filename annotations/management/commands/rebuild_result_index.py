"""``manage.py rebuild_result_index [--project ID]`` (also ``labelhub rebuild_result_index``):
rebuild the Data Manager's result-label index from the annotations and predictions."""

from django.core.management.base import BaseCommand, CommandError

from annotations.result_index import result_index_rebuild
from projects.models import Project


class Command(BaseCommand):
    help = "Rebuild the result-label index (Data Manager result filters) from the JSON."

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, help="only this project id")

    def handle(self, *args, project=None, **options):
        if project is not None and not Project.objects.filter(pk=project).exists():
            raise CommandError(f"no project with id {project}")
        written = result_index_rebuild(project_id=project)
        for pk, rows in written.items():
            self.stdout.write(f"project {pk}: {rows} index rows")
