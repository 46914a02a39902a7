"""The ``YYYY-MM`` month label that every stage writes and checks."""

import re

#: A month label: four digits, a hyphen, 01 to 12.
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
