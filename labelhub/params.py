"""One reading of a boolean flag, for query parameters, form fields and environment
variables alike: ``1``, ``true``, ``yes`` and ``on`` (any case) mean true; anything else,
or nothing, means false unless a default is given for "not there at all"."""

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def is_true(value, *, default: bool = False) -> bool:
    """``value`` as a flag; ``default`` when it is None or empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def is_false(value) -> bool:
    """True only when ``value`` says no explicitly (for flags that default to on)."""
    return value is not None and str(value).strip().lower() in FALSE_WORDS
