"""What every writer gets: the project's config schema, the options, and the notes."""

from collections.abc import Callable
from dataclasses import dataclass, field

from exporters.formats.resources import Notes


@dataclass
class WriterContext:
    project_id: int
    # The config in Label Studio's parsed_label_config shape (the converter's schema).
    schema: dict[str, dict]
    annotator: str = "email"  # or "id"
    download_resources: bool = False
    full_descriptions: bool = True
    # Data keys of the exported tasks, for tabular headers; the selector reads them
    # with one query before the rows stream.
    data_keys: Callable[[], list[str]] = list
    notes: Notes = field(default_factory=Notes)
