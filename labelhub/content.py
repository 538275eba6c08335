"""Which uploaded files could run script when a browser opens them from their own origin."""

ACTIVE_SUFFIXES = (".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml")


def is_active_content(name: str) -> bool:
    return name.lower().endswith(ACTIVE_SUFFIXES)
