"""Forms of the HTML pages. They only shape input: the writes go through the same
services as the API (projects.services), whose errors the views put back on the form."""

from django import forms

from frontend.label_templates import TEMPLATES
from projects.models import Project, ProjectMember

CONFIG_WIDGET = forms.Textarea(
    attrs={"rows": 16, "spellcheck": "false", "class": "code", "data-config-input": "1"}
)


class ColorInput(forms.TextInput):
    """The browser's colour picker. It only takes ``#rrggbb``: anything else (an empty
    value, ``#FFF``, a colour name from the API) is shown as white, not as black."""

    input_type = "color"

    def format_value(self, value):
        text = str(value or "").strip().lower()
        if len(text) == 4 and text.startswith("#"):
            text = "#" + "".join(c * 2 for c in text[1:])
        valid = len(text) == 7 and text.startswith("#")
        return text if valid and all(c in "0123456789abcdef" for c in text[1:]) else "#ffffff"


def color_field() -> forms.CharField:
    return forms.CharField(max_length=16, required=False, label="Color", widget=ColorInput())


class LoginForm(forms.Form):
    email = forms.CharField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password = forms.CharField(widget=forms.PasswordInput)


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password = forms.CharField(min_length=8, max_length=128, widget=forms.PasswordInput)


class ProjectCreateForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    color = color_field()
    template = forms.ChoiceField(
        choices=[(t["key"], t["title"]) for t in TEMPLATES], required=False
    )
    label_config = forms.CharField(widget=CONFIG_WIDGET)


class GeneralForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    expert_instruction = forms.CharField(
        required=False,
        label="Instructions for annotators",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown in the editor's instructions panel.",
    )
    color = color_field()


class LabelConfigForm(forms.Form):
    label_config = forms.CharField(widget=CONFIG_WIDGET)


class SamplingForm(forms.Form):
    sampling = forms.ChoiceField(choices=Project.Sampling.choices, widget=forms.RadioSelect)
    maximum_annotations = forms.IntegerField(
        min_value=1,
        max_value=1000,
        label="Annotations per task (overlap)",
        help_text="How many annotators label each task before it counts as done.",
    )
    show_predictions_to_annotators = forms.BooleanField(
        required=False,
        label="Start from the best prediction",
        help_text="A new annotation begins as a copy of the task's best prediction.",
    )
    show_skip_button = forms.BooleanField(required=False, label="Annotators may skip tasks")
    enable_empty_annotation = forms.BooleanField(
        required=False,
        label="Allow empty annotations",
        help_text="Off: a submit with nothing labeled is refused (skipping stays possible).",
    )


class MLSettingsForm(forms.Form):
    min_annotations_to_start_training = forms.IntegerField(
        min_value=0,
        max_value=1_000_000,
        label="Minimal number of annotations to start training",
    )
    start_training_on_annotation_update = forms.BooleanField(
        required=False,
        label="Train again as annotations come in",
        help_text="Retrains the built-in models in the background every N new annotations (always on with active-learning sampling).",
    )
    retrain_every = forms.IntegerField(
        min_value=0, max_value=1_000_000, label="N: retrain every N new annotations (0: never)"
    )
    model_version = forms.CharField(
        required=False,
        max_length=255,
        label="Predictions that pre-fill the editor: model version",
        help_text="Empty: every model's. For example text-classifier-v3.",
    )
    al_first_batch_size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1_000_000,
        label="Active learning: random first batch (empty: ten per class, at least the training minimum)",
    )
    al_uncertainty = forms.ChoiceField(
        choices=Project.Uncertainty.choices, label="Active learning: uncertainty measure"
    )
    al_epsilon = forms.FloatField(
        min_value=0,
        max_value=1,
        label="Active learning: share of random picks (epsilon)",
    )


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="User email")
    role = forms.ChoiceField(
        choices=ProjectMember.Role.choices, initial=ProjectMember.Role.ANNOTATOR
    )
    password = forms.CharField(
        label="Password for a new user",
        required=False,
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Staff only: creates the account when no user has this email.",
    )


class MemberChangeForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput, required=False)
    email = forms.CharField(widget=forms.HiddenInput, required=False, max_length=254)
    role = forms.ChoiceField(choices=ProjectMember.Role.choices, required=False)
    remove = forms.BooleanField(required=False)


class QualityForm(forms.Form):
    """Benchmark QA and agreement (``Project`` quality fields). The checks are the
    API's (``projects.services.quality_settings_check``), so the page shows the same
    messages; the form only turns text into numbers."""

    benchmark_project = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Benchmark project",
        help_text="Its ground-truth tasks are copied in as hidden benchmarks; annotators "
        "are scored against them. None: this project's own ground truth.",
    )
    benchmark_first = forms.IntegerField(
        label="Benchmarks first",
        help_text="How many benchmark tasks each annotator gets before any other task.",
    )
    benchmark_rate = forms.FloatField(
        label="Benchmark rate",
        help_text="After those, the share of next tasks that are benchmarks (0 to 1).",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    benchmark_feedback = forms.BooleanField(
        required=False,
        label="Show annotators their benchmark score",
        help_text="A short note after each benchmark task with how close they came.",
    )
    agreement_threshold = forms.FloatField(
        label="Agreement threshold",
        help_text="Tasks whose agreement falls below this (0 to 1) count as low agreement.",
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    reassign_low_agreement = forms.BooleanField(
        required=False,
        label="Ask for more annotations on low agreement",
        help_text="Such tasks go back to the stream for one more annotator (at most overlap + 2).",
    )

    def __init__(self, *args, projects=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "None (this project's ground truth)")]
        choices += [(str(p.pk), f"#{p.pk} {p.title}") for p in projects]
        self.fields["benchmark_project"].choices = choices


class ProjectDeleteForm(forms.Form):
    confirm = forms.CharField(
        max_length=200,
        required=False,
        label="Type the project's title to confirm",
    )
