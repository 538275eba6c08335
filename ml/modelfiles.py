"""The trained model file of a built-in backend's completed training job."""

import joblib
from django.core.files.storage import default_storage

from ml.models import TrainingJob


def model_load(job: TrainingJob):
    """The trained model object stored by a completed job."""
    with default_storage.open(job.model_file, "rb") as handle:
        return joblib.load(handle)
