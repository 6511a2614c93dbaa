"""Where metering records go and with which key: the same code for the emulator and the real service.

``Settings.from_env()`` reads ``REVENIUM_METERING_API_KEY`` and ``REVENIUM_METERING_BASE_URL``
(plus the official client's timeout / retry variables); ``Settings(api_key, base_url)`` builds
one by hand (the notebooks pass the emulator's). The base URL is normalised exactly like the
official Revenium client: query and fragment dropped, path cut after its last ``meter`` segment
(or ``/meter`` appended), trailing ``/`` added. The key lives in a :class:`Secret` whose repr and
str are masked, so it never shows in output, logs, reprs, exceptions or reports.

Example:
    >>> s = Settings(api_key="hak_demo_1234", base_url="http://127.0.0.1:8787")
    >>> s.base_url
    'http://127.0.0.1:8787/meter/'
    >>> s.completions_url
    'http://127.0.0.1:8787/meter/v2/ai/completions'
    >>> "hak_demo_1234" in repr(s)
    False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

DEFAULT_BASE_URL = "https://api.revenium.ai/meter/"
COMPLETIONS_PATH = "v2/ai/completions"

ENV_API_KEY = "REVENIUM_METERING_API_KEY"
ENV_BASE_URL = "REVENIUM_METERING_BASE_URL"
ENV_TIMEOUT = "REVENIUM_METERING_TIMEOUT_SECONDS"
ENV_CONNECT_TIMEOUT = "REVENIUM_METERING_CONNECT_TIMEOUT_SECONDS"
ENV_MAX_RETRIES = "REVENIUM_METERING_MAX_RETRIES"


class Secret:
    """A string that never shows itself: ``repr``/``str``/``format`` print ``'***'``.

    Call :meth:`reveal` at the one place that needs the value (the HTTP header).

    Example:
        >>> k = Secret("rev_abc")
        >>> f"{k}", repr(k), k.reveal()
        ('***', "Secret('***')", 'rev_abc')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"api_key must be a str, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value (only for the ``x-api-key`` header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickling keeps working (subprocesses), still masked in reprs
        return (Secret, (self._value,))


def normalize_base_url(url: str) -> str:
    """Normalise a metering base URL like the official client (``normalize_meter_base_url``).

    Query and fragment are dropped; the path is cut after its last ``meter`` segment, or
    ``/meter`` is appended; a trailing ``/`` is added. Unlike the SDK middleware, an address
    that is not ``http(s)://`` raises instead of silently falling back to production.

    Example:
        >>> normalize_base_url("http://127.0.0.1:8787")
        'http://127.0.0.1:8787/meter/'
        >>> normalize_base_url("https://api.revenium.ai/meter/v2/ai/completions?x=1#f")
        'https://api.revenium.ai/meter/'
        >>> normalize_base_url("https://h/a/meter/b/Meter/c")
        'https://h/a/meter/b/Meter/'
    """
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"base_url={url!r} must start with http:// or https://")
    parts = urlsplit(url)
    segments = parts.path.rstrip("/").split("/")
    positions = [i for i, seg in enumerate(segments) if seg.lower() == "meter"]
    if positions:
        segments = segments[: positions[-1] + 1]
    else:
        segments.append("meter")
    path = "/".join(segments) + "/"
    if not path.startswith("/"):
        path = "/" + path
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass(frozen=True)
class Settings:
    """Connection settings for the metering API (key masked in every repr).

    Attributes:
        api_key: the ``x-api-key`` value (a str or :class:`Secret`; kept as a Secret).
        base_url: metering base URL, normalised (see :func:`normalize_base_url`).
        timeout_s: read timeout per request (official client: 10 s).
        connect_timeout_s: connect timeout (official client: 5 s).
        max_retries: retries after the first attempt (attempts = max_retries + 1).
        health_url: optional URL probed by ``Tracker.health()``; ``None`` probes the base URL
            (any HTTP answer below 500 counts as reachable).

    Example:
        >>> Settings("k", "http://localhost:1/meter").with_(max_retries=0).max_retries
        0
    """

    api_key: Secret | str
    base_url: str = DEFAULT_BASE_URL
    timeout_s: float = 10.0
    connect_timeout_s: float = 5.0
    max_retries: int = 4
    health_url: str | None = field(default=None)

    def __post_init__(self) -> None:
        key = self.api_key if isinstance(self.api_key, Secret) else Secret(self.api_key)
        if not key:
            raise ValueError(f"api_key is empty: set {ENV_API_KEY} or pass api_key=")
        object.__setattr__(self, "api_key", key)
        object.__setattr__(self, "base_url", normalize_base_url(self.base_url))
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s={self.timeout_s!r} must be > 0")
        if self.connect_timeout_s <= 0:
            raise ValueError(f"connect_timeout_s={self.connect_timeout_s!r} must be > 0")
        if int(self.max_retries) != self.max_retries or self.max_retries < 0:
            raise ValueError(f"max_retries={self.max_retries!r} must be an integer >= 0")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from ``REVENIUM_METERING_*`` environment variables.

        Example:
            >>> s = Settings.from_env({"REVENIUM_METERING_API_KEY": "hak_x",
            ...                        "REVENIUM_METERING_BASE_URL": "http://127.0.0.1:9"})
            >>> s.completions_url
            'http://127.0.0.1:9/meter/v2/ai/completions'
        """
        env = os.environ if env is None else env
        key = env.get(ENV_API_KEY, "")
        if not key and "api_key" not in overrides:
            raise ValueError(f"{ENV_API_KEY} is not set")
        kwargs: dict = {"api_key": key, "base_url": env.get(ENV_BASE_URL) or DEFAULT_BASE_URL}
        for name, var, conv in (
            ("timeout_s", ENV_TIMEOUT, float),
            ("connect_timeout_s", ENV_CONNECT_TIMEOUT, float),
            ("max_retries", ENV_MAX_RETRIES, int),
        ):
            raw = env.get(var)
            if raw not in (None, ""):
                try:
                    kwargs[name] = conv(raw)
                except ValueError:
                    raise ValueError(f"{var}={raw!r} is not a valid {conv.__name__}") from None
        kwargs.update(overrides)
        return cls(**kwargs)

    @property
    def completions_url(self) -> str:
        """``{base}v2/ai/completions``: where each AI completion record is POSTed."""
        return self.base_url + COMPLETIONS_PATH

    @property
    def origin(self) -> str:
        """Scheme, host and port of the service (what logs may show)."""
        return _origin(self.base_url)

    def headers(self, idempotency_key: str) -> dict[str, str]:
        """The request headers of one record (contains the key: never log them).

        Example:
            >>> sorted(Settings("k", "http://h").headers("abc"))
            ['Content-Type', 'Idempotency-Key', 'x-api-key']
        """
        return {
            "x-api-key": self.api_key.reveal(),  # type: ignore[union-attr]
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        }

    def redact(self, text: str) -> str:
        """Replace any occurrence of the key in ``text`` by ``***``.

        Example:
            >>> Settings("hak_zz", "http://h").redact("bad key hak_zz")
            'bad key ***'
        """
        key = self.api_key.reveal()  # type: ignore[union-attr]
        return text.replace(key, "***") if key else text

    def with_(self, **changes) -> Settings:
        """Return a copy with some fields changed."""
        return replace(self, **changes)
