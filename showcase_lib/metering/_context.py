"""Metadata set once per request or job, seen by every nested AI call.

``metadata_context(**tags)`` pushes tags onto a :mod:`contextvars` variable; contexts nest and
merge (inner values win), and ``Tracker.track`` picks the current tags up at call time, so a
web handler can tag the organisation, a service layer the product, and the code that calls the
model only the feature. asyncio tasks inherit the context they were created in; **threads do
not** (a new thread starts with an empty context): use ``contextvars.copy_context().run``
or :func:`submit_with_context` to carry tags into a thread or a thread pool.

Tags are validated when they are set (not on the hot path) through
``showcase_lib.metadata.validate``: checks of the values present (type, enum, format, length,
personal data, unknown keys); "required" is only checked on the full record.
Enrichment hooks (:func:`add_enricher`) derive tags from the record off the hot path, in the
tracker's worker.

Example:
    >>> with metadata_context(organization_id="org_001", product_id="product_a"):
    ...     with metadata_context(customer_id="cust_0001"):
    ...         sorted(current_metadata())
    ['customer_id', 'organization_id', 'product_id']
    >>> current_metadata()
    {}
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from showcase_lib.schema import ALL_COLUMNS

log = logging.getLogger("showcase_lib.metering")

#: The hierarchy the book tags by, outermost first.
HIERARCHY: tuple[str, ...] = ("organization_id", "product_id", "customer_id", "feature_id")

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_TAGS: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "revenium_metadata", default=_EMPTY
)

Enricher = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]
_ENRICHERS: list[Enricher] = []
_COLUMNS = frozenset(ALL_COLUMNS)

#: Rules that only make sense on a complete record, skipped when validating partial tags.
_PARTIAL_SKIP = frozenset({"required", "recommended"})


class TagError(ValueError):
    """Tags that break the metadata rules; ``.issues`` lists (field, rule, message)."""

    def __init__(self, issues: list[tuple[str, str, str]]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{f} ({r}): {m}" for f, r, m in issues))


def _minimal_check(tags: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Fallback when showcase_lib.metadata is unavailable: strings, <= 255 chars."""
    issues = []
    for k, v in tags.items():
        if v is None:
            continue
        if not isinstance(v, str):
            issues.append((k, "type", f"{k}={v!r} must be a string"))
        elif len(v) > 255:
            issues.append((k, "max_length", f"{k} must be at most 255 characters"))
    return issues


def check_tags(tags: Mapping[str, Any], *, partial: bool = True) -> list[tuple[str, str, str]]:
    """Validate tags with ``showcase_lib.metadata.validate``; return (field, rule, message).

    With ``partial=True`` (tag time) missing required fields are not errors.

    Example:
        >>> check_tags({"subscription_tier": "Pro"})[0][:2]
        ('subscription_tier', 'enum')
        >>> check_tags({"organization_id": "org_001"})
        []
    """
    try:
        from showcase_lib.metadata import validate
    except ImportError:  # pragma: no cover - Part C not installed
        return _minimal_check(tags)
    report = validate(dict(tags))
    return [
        (e.field, e.rule, e.message)
        for e in report.errors
        if not (partial and e.rule in _PARTIAL_SKIP)
    ]


@contextmanager
def metadata_context(*, on_invalid: str = "raise", **tags: Any) -> Iterator[Mapping[str, Any]]:
    """Set tags for everything tracked inside the ``with`` block (nesting merges, inner wins).

    Args:
        on_invalid: ``"raise"`` (default: a :class:`TagError` at setup time, before any AI
            call), ``"warn"`` (log field and rule, keep the tags) or ``"drop"`` (log and drop
            the bad tags).
        **tags: metadata fields, e.g. ``organization_id="org_001"``. ``None`` removes a tag.

    Example:
        >>> with metadata_context(customer_id="cust_0001") as md:
        ...     md["customer_id"]
        'cust_0001'
        >>> try:
        ...     with metadata_context(subscription_tier="gold"):
        ...         pass
        ... except TagError as err:
        ...     print(err)
        subscription_tier (enum): subscription_tier='gold' is not one of starter, pro, enterprise
    """
    if on_invalid not in ("raise", "warn", "drop"):
        raise ValueError(f"on_invalid={on_invalid!r} is not one of raise, warn, drop")
    issues = check_tags({k: v for k, v in tags.items() if v is not None})
    if issues:
        if on_invalid == "raise":
            raise TagError(issues)
        for f, r, _m in issues:  # field and rule only: values may be personal data
            log.warning(
                "metadata tag %s failed rule %s (%s)",
                f,
                r,
                "dropped" if on_invalid == "drop" else "kept",
            )
        if on_invalid == "drop":
            bad = {f for f, _, _ in issues}
            tags = {k: v for k, v in tags.items() if k not in bad}
    merged = dict(_TAGS.get())
    for k, v in tags.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    frozen = MappingProxyType(merged)
    token = _TAGS.set(frozen)
    try:
        yield frozen
    finally:
        _TAGS.reset(token)


def current_metadata() -> dict[str, Any]:
    """A copy of the tags in force here.

    Example:
        >>> current_metadata()
        {}
    """
    return dict(_TAGS.get())


def _current_ref() -> Mapping[str, Any]:
    """The current tags without copying (the tracker's hot path; the mapping is read-only)."""
    return _TAGS.get()


def run_in_context(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """Wrap ``fn`` so it runs in a copy of the *current* context (for a new thread).

    Example:
        >>> import threading
        >>> seen = []
        >>> with metadata_context(customer_id="cust_0001"):
        ...     t = threading.Thread(target=run_in_context(lambda: seen.append(current_metadata())))
        ...     t.start(); t.join()
        >>> seen
        [{'customer_id': 'cust_0001'}]
    """
    ctx = contextvars.copy_context()
    return lambda: ctx.run(fn, *args, **kwargs)


def submit_with_context(
    executor: Executor, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Future:
    """``executor.submit`` that carries the caller's tags into the worker thread.

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> with ThreadPoolExecutor(1) as ex, metadata_context(product_id="product_a"):
        ...     submit_with_context(ex, current_metadata).result()
        {'product_id': 'product_a'}
    """
    ctx = contextvars.copy_context()
    return executor.submit(ctx.run, fn, *args, **kwargs)


def add_enricher(fn: Enricher) -> Enricher:
    """Register a hook ``fn(record) -> dict of derived tags`` (run in the tracker's worker).

    Derived tags fill gaps only: a tag set explicitly is never overwritten. Usable as a
    decorator; remove with :func:`remove_enricher`.

    Example:
        >>> @add_enricher
        ... def env_from_host(record):
        ...     return {"environment": "development"}
        >>> remove_enricher(env_from_host)
    """
    _ENRICHERS.append(fn)
    return fn


def remove_enricher(fn: Enricher) -> None:
    """Unregister a hook added with :func:`add_enricher` (no error if absent).

    Example:
        >>> hook = add_enricher(lambda record: {"region": "eu-west-1"})
        >>> remove_enricher(hook); remove_enricher(hook)   # the second call is a no-op
    """
    if fn in _ENRICHERS:
        _ENRICHERS.remove(fn)


def enrichers() -> tuple[Enricher, ...]:
    """The global hooks in registration order."""
    return tuple(_ENRICHERS)


def apply_enrichers(record: dict[str, Any], hooks: tuple[Enricher, ...]) -> int:
    """Run hooks on ``record`` in place, filling missing tags; return how many tags were added.

    A hook returns a mapping of derived tags (or ``None``). A hook that raises, or returns
    anything else (a ``str``, a ``list``), raises :class:`_EnricherError` naming the hook: the
    tracker's worker dead-letters that record with the reason and goes on.

    Example:
        >>> rec = {"cost_usd": 2.0}
        >>> apply_enrichers(rec, (lambda r: {"task_type": "chat"},))
        1
        >>> rec["task_type"]
        'chat'
        >>> apply_enrichers(rec, (lambda r: "chat",))
        Traceback (most recent call last):
        ...
        showcase_lib.metering._context._EnricherError: enricher <lambda> returned str, not a mapping
    """
    added = 0
    for hook in hooks:
        name = getattr(hook, "__qualname__", None) or repr(hook)
        try:
            extra = hook(record)
        except Exception as exc:
            raise _EnricherError(f"enricher {name} raised {type(exc).__name__}: {exc}") from exc
        if extra is None:
            continue
        if not isinstance(extra, Mapping):
            raise _EnricherError(f"enricher {name} returned {type(extra).__name__}, not a mapping")
        unknown = [k for k in extra if k not in _COLUMNS]
        if unknown:
            raise _EnricherError(f"enricher {name} returned unknown field(s) {unknown!r}")
        for k, v in extra.items():
            if record.get(k) is None:
                record[k] = v
                added += 1
    return added


class _EnricherError(Exception):
    """An enrichment hook raised, or returned something other than a mapping (or None)."""
