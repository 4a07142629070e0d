"""ASCII, deterministic names for model variables and constraints.

Solvers and LP/MPS files want short ASCII names; scenario ids may be Chinese or contain
spaces. :func:`ascii_token` maps an id to a stable token that depends on the id alone, and
:func:`model_name` joins tokens with ``__`` (e.g. ``demand__z01__primary``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = ["ascii_token", "model_name", "token_map"]

_SAFE_TOKEN = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*")
_STEM_CHARS = 24


def ascii_token(value: str) -> str:
    """Stable ASCII token of an id.

    Ids made of ASCII letters and digits (single underscores between them) are kept as
    they are. Any other id becomes its ASCII letters and digits (runs of other characters
    replaced by ``_``, at most 24 characters, ``id`` if none are left) plus ``_`` and the
    first 8 hex digits of the SHA-1 of its UTF-8 text: ``城东小学`` -> ``id_<8 hex>``,
    ``Zone 7`` -> ``Zone_7_<8 hex>``. The same id gets the same token in every run.

    Parameters
    ----------
    value
        Original id (any Unicode text).

    Returns
    -------
    str
        Token matching ``[A-Za-z0-9]+(_[A-Za-z0-9]+)*``.
    """
    if _SAFE_TOKEN.fullmatch(value):
        return value
    stem = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_")[:_STEM_CHARS].strip("_") or "id"
    digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]
    return f"{stem}_{digest}"


def token_map(ids: Iterable[str]) -> dict[str, str]:
    """Map every id to its token, checking that no two ids share one.

    Parameters
    ----------
    ids
        Ids (duplicates allowed).

    Returns
    -------
    dict of str to str
        Original id -> token, in sorted id order.

    Raises
    ------
    ValueError
        If two different ids map to the same token.
    """
    tokens: dict[str, str] = {}
    owner: dict[str, str] = {}
    for value in sorted(set(ids)):
        token = ascii_token(value)
        if token in owner:
            raise ValueError(
                f"ids {owner[token]!r} and {value!r} map to the same name token {token!r}; "
                "rename one of them"
            )
        owner[token] = value
        tokens[value] = token
    return tokens


def model_name(prefix: str, *tokens: str) -> str:
    """Join a prefix and tokens with ``__`` (e.g. ``demand__z01__primary``)."""
    return "__".join((prefix, *tokens))
