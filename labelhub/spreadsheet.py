"""Cells for CSV and TSV files that people open in a spreadsheet.

Excel, LibreOffice Calc and Google Sheets read a cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (CSV or formula injection: an
annotator's ``=cmd|' /C calc'!A0`` or ``=HYPERLINK(...)`` runs on the machine of whoever
opens the export). OWASP's rule makes such a cell inert with a leading single quote,
which the spreadsheet takes as "this is text" and does not show.

Numbers are not formulas: a number written as a number stays as it is, and so does text
that is nothing but a number (``-1.5``, ``+3``, ``-2e-5``), which a spreadsheet reads as
that number and never as a formula; the quote would only corrupt the value. JSON
exports keep every value raw.
"""

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def cell(value):
    """``value`` as a CSV/TSV cell: text that a spreadsheet would run gets a ``'``."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
