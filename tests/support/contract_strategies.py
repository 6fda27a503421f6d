"""Hypothesis strategies derived from the contracts' own msgspec type info.

Any Struct (including a fifth aggregate's) gets a strategy that respects its
constraints, so "decode(encode(x)) == x" is checked on values the contract accepts.
"""

from __future__ import annotations

from datetime import UTC
from functools import cache
from typing import Any

import msgspec.inspect as mi
from hypothesis import strategies as st


@cache
def for_type(tp: Any) -> st.SearchStrategy[Any]:
    return _from_info(mi.type_info(tp))


def _from_info(info: mi.Type) -> st.SearchStrategy[Any]:
    match info:
        case mi.Metadata(type=inner):
            return _from_info(inner)
        case mi.StrType(min_length=lo, max_length=hi, pattern=pattern):
            lo = lo or 0
            if pattern is not None:
                return st.from_regex(pattern, fullmatch=True).filter(
                    lambda s: lo <= len(s) <= (hi or 10**6)
                )
            return st.text(min_size=lo, max_size=min(hi or 40, 40))
        case mi.IntType(gt=gt, ge=ge, lt=lt, le=le):
            low = ge if ge is not None else (gt + 1 if gt is not None else -(2**53))
            high = le if le is not None else (lt - 1 if lt is not None else 2**53)
            return st.integers(low, high)
        case mi.BoolType():
            return st.booleans()
        case mi.NoneType():
            return st.none()
        case mi.LiteralType(values=values):
            return st.sampled_from(values)
        case mi.DateTimeType():
            return st.datetimes(timezones=st.just(UTC))
        case mi.ListType(item_type=item, min_length=lo, max_length=hi):
            return st.lists(_from_info(item), min_size=lo or 0, max_size=min(hi or 5, 5))
        case mi.DictType(key_type=key, value_type=value):
            return st.dictionaries(_from_info(key), _from_info(value), max_size=4)
        case mi.UnionType(types=types):
            return st.one_of([_from_info(t) for t in types])
        case mi.StructType(cls=cls, fields=fields):
            parts = {f.name: _from_info(f.type) for f in fields}
            if "data" in parts and "type" in parts:
                # an envelope: its type field must name the tag of its data
                data = parts.pop("data")
                del parts["type"]
                return data.flatmap(
                    lambda d: st.builds(
                        cls, data=st.just(d), type=st.just(d.__struct_config__.tag), **parts
                    )
                )
            return st.builds(cls, **parts)
    raise NotImplementedError(f"no strategy for {info!r}")
