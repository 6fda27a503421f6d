"""The one size check every way in runs first: safe on any decoded JSON value."""

from __future__ import annotations

import msgspec


class NotJson(ValueError):
    """A value with no JSON form: nested deeper than Python's recursion limit, a string that
    is not Unicode text (a lone surrogate, which JSON's ``\\ud800`` escape can carry), or an
    object that is no JSON type."""


def json_size(value: object) -> int:
    """The size of ``value`` as JSON, or NotJson.

    msgspec's encoder stops at Python's recursion limit and refuses lone surrogates, so
    no input can crash this check, or reach a decoder or store that would crash on it.
    """
    try:
        return len(msgspec.json.encode(value))
    except RecursionError:
        raise NotJson("nested too deeply") from None
    except UnicodeEncodeError:
        raise NotJson("holds a string that is not Unicode text") from None
    except TypeError as exc:
        raise NotJson(f"is not JSON: {exc}") from None
