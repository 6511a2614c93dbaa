"""Personal data (and secrets) in metadata values: detect, classify, mask.

Metadata is stored, grouped and shown in dashboards for years: an email, a phone number, a
card number or an IP address in a tag is personal data leaking into the cost system. The
patterns are deliberately simple, and written so that Python's ``re`` and pyarrow's RE2 read
them the same way: one combined pattern pre-filters whole columns, then each candidate value is
classified by the same function the single-record validator uses (card numbers must also pass
the Luhn check, be written as one run or in groups of four, and stand apart from letters and
``_``, so digit runs inside hex ids, UUIDs and ``req_...`` ids do not count).

Example:
    >>> pii_kinds("jane.doe@example.com")
    ('email',)
    >>> pii_kinds("4111 1111 1111 1111")
    ('card',)
    >>> pii_kinds("cust_0001")
    ()
    >>> mask_value("jane.doe@example.com")
    'j***@e***.com'
"""

from __future__ import annotations

import re
from typing import Final

import pandas as pd

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"

#: One pattern per kind (RE2- and ``re``-compatible: no look-around, ASCII classes).
PII_PATTERNS: Final[dict[str, str]] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": (
        r"\+[0-9]{1,3}(?:[ .-]?[0-9]{2,4}){2,4}\b"
        r"|(?:\([0-9]{3}\)[ .-]?|\b[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}\b"
    ),
    "card": (
        r"(?:^|[^0-9A-Za-z_])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}"
        r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5})(?:$|[^0-9A-Za-z_])"
    ),
    "ip": (
        rf"(?:^|[^/.0-9A-Za-z_]){_OCTET}(?:\.{_OCTET}){{3}}\b"
        r"|\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b"
    ),
    "secret": r"\b(?:hak|rev)_[A-Za-z0-9]{16,}\b|\bsk-[A-Za-z0-9_-]{20,}",
}
PII_KINDS: Final[tuple[str, ...]] = tuple(PII_PATTERNS)
#: The union of all kinds: a superset pre-filter for whole columns.
PII_PREFILTER: Final[str] = "|".join(f"(?:{p})" for p in PII_PATTERNS.values())

_RE = {k: re.compile(p) for k, p in PII_PATTERNS.items()}
_RE_PREFILTER = re.compile(PII_PREFILTER)
_CARD_RUN = re.compile(
    r"(?:^|[^0-9A-Za-z_])([0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}"
    r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5})(?=$|[^0-9A-Za-z_])"
)

#: What to do instead, per kind (used in messages and audit fixes).
PII_FIXES: Final[dict[str, str]] = {
    "email": "use a pseudonymous id (e.g. user_ + a salted hash), never the address",
    "phone": "drop it; use the customer or user id",
    "card": "never send payment data; use the billing system's subscription id",
    "ip": "drop it; use region or user_agent if location or client matters",
    "secret": "remove it and rotate the key: a credential was sent as metadata",
}

_KIND_LABEL = {
    "email": "an email address",
    "phone": "a phone number",
    "card": "a payment card number",
    "ip": "an IP address",
    "secret": "an API key",
}


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a string of digits (payment card numbers pass it).

    Example:
        >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
        (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _has_card(value: str) -> bool:
    for m in _CARD_RUN.finditer(value):
        digits = re.sub(r"[ -]", "", m.group(1))
        if 13 <= len(digits) <= 19 and digits.strip("0") and luhn_ok(digits):
            return True
    return False


def pii_kinds(value: str) -> tuple[str, ...]:
    """The kinds of personal data (or secrets) found in one text value, in a fixed order.

    Example:
        >>> pii_kinds("call me on +1 555 123 4567 or at 10.0.0.12")
        ('phone', 'ip')
    """
    if not isinstance(value, str) or not _RE_PREFILTER.search(value):
        return ()
    found = []
    for kind, rx in _RE.items():
        if kind == "card":
            if _has_card(value):
                found.append(kind)
        elif rx.search(value):
            found.append(kind)
    return tuple(found)


def describe(kinds: tuple[str, ...]) -> str:
    """Human words for a tuple of kinds.

    Example:
        >>> describe(("email", "ip"))
        'an email address and an IP address'
    """
    return " and ".join(_KIND_LABEL[k] for k in kinds)


def mask_value(value: object, keep: int = 2) -> str:
    """Mask a value so a report can show its shape without its content.

    Example:
        >>> mask_value("+1 555 123 4567")
        '+1 5*** *** ***67'
    """
    text = str(value)
    if "@" in text:
        local, _, domain = text.partition("@")
        stem, dot, tld = domain.rpartition(".")
        shown_tld = f"{dot}{tld}" if stem else ""
        return f"{local[:1]}***@{(stem or domain)[:1]}***{shown_tld}"
    chars = list(text[:60])
    alnum = [i for i, c in enumerate(chars) if c.isalnum()]
    hidden = alnum[keep:-keep] if len(alnum) > 2 * keep else alnum[1:]
    for i in hidden:
        chars[i] = "*"
    out = re.sub(r"\*+", "***", "".join(chars))
    return out + ("..." if len(text) > 60 else "")


def pii_column(values: pd.Series) -> pd.Series:
    """Vectorised :func:`pii_kinds` over a column: a Series of tuples (empty when clean).

    The combined pattern runs over the whole column (pyarrow RE2 when the column holds Arrow
    strings); only the few matching distinct values are classified one by one.

    Example:
        >>> s = pd.Series(["cust_1", "a@b.io", None], dtype="string[pyarrow]")
        >>> pii_column(s).tolist()
        [(), ('email',), ()]
    """
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string[pyarrow]")
    hit = text.str.contains(PII_PREFILTER, regex=True).fillna(False).to_numpy(dtype=bool)
    out = pd.Series([()] * len(values), index=values.index, dtype=object)
    if hit.any():
        cand = text[hit]
        kinds = {v: pii_kinds(v) for v in pd.unique(cand.to_numpy(dtype=object))}
        out[hit] = cand.map(kinds).to_numpy(dtype=object)
    return out
