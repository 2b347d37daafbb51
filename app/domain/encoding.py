"""How audit entries are written and read, all derived from `app.domain.entry.FIELDS`:
the JSON record of an entry (what the export writes and the store keeps), its strict and
tolerant reading, and the canonical bytes the hash covers (compiled once from FIELDS)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from app.domain.entry import (
    ACTOR_IDENTITY,
    ACTOR_KEYS,
    BY_NAME,
    FIELDS,
    HASHED,
    AuditEntry,
    EntryField,
    Kind,
)
from app.domain.instants import iso_millis, to_millis_utc
from app.domain.models import Actor, Role

# --- values: an entry's fields as JSON values (records) and back ------------------------


def json_value(field: EntryField, entry: AuditEntry) -> Any:
    """The field's value in the entry as a JSON value (times as ISO text, enums by value)."""
    raw = getattr(entry, field.attribute)
    kind = field.kind
    if kind is Kind.TIME:
        return iso_millis(raw)
    if kind is Kind.ENUM:
        return raw.value
    if kind is Kind.ENUM_LIST:
        return [item.value for item in raw]
    if kind is Kind.TEXT_LIST:
        return list(raw)
    if kind is Kind.ACTOR:
        return actor_record(raw)
    return raw


def actor_record(actor: Actor) -> dict[str, Any]:
    """The actor as a JSON object: name and role, then the identity keys that are known."""
    out: dict[str, Any] = {"name": actor.name, "role": actor.role.value}
    for key in ACTOR_IDENTITY:
        value = getattr(actor, key.attribute)
        if value is not None:
            out[key.name] = value
    return out


def actor_from(value: Any) -> Actor:
    """An actor from its JSON object; strict (an identity key is a string or absent, never
    null, so that no key can be added to an entry without changing its hash)."""
    if not isinstance(value, dict) or set(value) - set(ACTOR_KEYS):
        raise ValueError(f"not an actor object: {value!r}")
    name, role = value.get("name"), value.get("role")
    if not isinstance(name, str):
        raise ValueError("the actor has no name")
    identity: dict[str, str] = {}
    for key in ACTOR_IDENTITY:
        if key.name in value:
            if not isinstance(value[key.name], str):
                raise ValueError(f"the actor's {key.name} is not a string")
            identity[key.attribute] = value[key.name]
    return Actor(name, Role(role), **identity)


def _omitted(field: EntryField, value: Any) -> bool:
    return field.since > 1 and value is None


def record(entry: AuditEntry, *, hashed_only: bool = False) -> dict[str, Any]:
    """The entry as a JSON object, in field order: what the export writes and, without
    `hash` and `signature`, what the hash covers."""
    out: dict[str, Any] = {}
    for field in HASHED if hashed_only else FIELDS:
        value = json_value(field, entry)
        if not _omitted(field, value):
            out[field.name] = value
    return out


def _parse(field: EntryField, value: Any) -> Any:
    kind = field.kind
    if kind is Kind.INT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{field.name} is not an integer")
        return value
    if kind is Kind.TIME:
        if isinstance(value, datetime):  # a stored document's own datetime
            return to_millis_utc(value)
        if not isinstance(value, str):
            raise ValueError(f"{field.name} is not a time")
        return to_millis_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if kind is Kind.ENUM:
        assert field.enum is not None
        return field.enum(value)
    if kind is Kind.ENUM_LIST:
        assert field.enum is not None
        if not isinstance(value, list):
            raise ValueError(f"{field.name} is not a list")
        return tuple(field.enum(item) for item in value)
    if kind is Kind.TEXT_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{field.name} is not a list of strings")
        return tuple(value)
    if kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{field.name} is not true or false")
        return value
    if kind is Kind.ACTOR:
        return actor_from(value)
    if kind is Kind.TEXT:
        if not isinstance(value, str):
            raise ValueError(f"{field.name} is not a string")
        return value
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field.name} is not a string or null")
    return value


# What a field reads as when a tolerant read finds it missing or mangled.
_EMPTY: dict[Kind, Any] = {
    Kind.ENUM_LIST: (),
    Kind.TEXT_LIST: (),
    Kind.BOOL: False,
    Kind.TEXT: "",
    Kind.OPTIONAL_TEXT: None,
    Kind.ACTOR: Actor("", Role.SYSTEM),
}


def from_record(data: Mapping[str, Any], *, strict: bool = True) -> AuditEntry:
    """An entry from its JSON object (an export line, or a stored document's values).

    Strict (verification): a wrong or missing value raises ValueError naming the field, an
    unknown key too. Tolerant (display): such a value reads as empty, so a tampered entry
    can still be listed (its hash then no longer matches); only the sequence, time, action
    and outcome are indispensable.
    """
    if strict:
        try:
            return _decode_strict(data)
        except (KeyError, ValueError, TypeError, AttributeError):
            pass  # the generic reading below names what is wrong
    unknown = set(data) - set(BY_NAME)
    if unknown and strict:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for field in FIELDS:
        try:
            if field.name not in data:
                if field.kind is Kind.OPTIONAL_TEXT:
                    values[field.attribute] = None
                    continue
                raise ValueError(f"{field.name} is missing")
            values[field.attribute] = _parse(field, data[field.name])
        except (ValueError, TypeError, AttributeError):
            if strict or field.kind not in _EMPTY:
                raise
            values[field.attribute] = _EMPTY[field.kind]
    return AuditEntry(**values)


# --- the canonical encoding the hash covers ------------------------------------------

_text = encode_basestring  # json's own C string encoder (the one json.dumps uses)


def canonical_json(fields: dict[str, Any]) -> str:
    """The reference encoding: sorted keys, no whitespace, non-ASCII kept as is."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _actor_json(actor: Actor) -> str:
    if actor.issuer is None and actor.subject is None and actor.display_name is None:
        return '{"name":' + _text(actor.name) + ',"role":' + _text(actor.role.value) + "}"
    return canonical_json(actor_record(actor))  # a person: sorted keys, as the reference


def _texts(values: Any) -> str:
    return "[" + ",".join(_text(v) for v in values) + "]"


# How each kind's value is written as JSON: a Python expression over the attribute {v}.
_JSON_OF: dict[Kind, str] = {
    Kind.INT: "str(int({v}))",
    Kind.TIME: "_text(iso_millis({v}))",
    Kind.ENUM: "_text({v}.value)",
    Kind.ENUM_LIST: "_texts(c.value for c in {v})",
    Kind.TEXT: "_text({v})",
    Kind.OPTIONAL_TEXT: '("null" if {v} is None else _text({v}))',
    Kind.TEXT_LIST: "_texts({v})",
    Kind.BOOL: '("true" if {v} else "false")',
    Kind.ACTOR: "_actor_json({v})",
}


def _compile_canonical() -> Callable[[AuditEntry], bytes]:
    """Build the canonical writer from FIELDS: one string concatenation over the hashed
    fields in sorted key order, as Python source compiled once at import (dataclasses
    builds its methods the same way). It is the hot loop of every verification, and a
    generic walk over the fields is ~25% slower; a property test holds its output
    byte-identical to `canonical_json(record(entry, hashed_only=True))`."""
    lines = ["def canonical(e):", "    out = '{'"]
    for number, field in enumerate(sorted(HASHED, key=lambda f: f.name)):
        key = ("," if number else "") + json.dumps(field.name) + ":"
        attribute = f"e.{field.attribute}"
        if field.since > 1:  # omitted when absent (never the first key, which has no comma)
            assert number and field.kind is Kind.OPTIONAL_TEXT
            lines.append(f"    if {attribute} is not None:")
            lines.append(f"        out += {key!r} + _text({attribute})")
        else:
            lines.append(f"    out += {key!r} + " + _JSON_OF[field.kind].format(v=attribute))
    lines.append("    return (out + '}').encode('utf-8')")
    namespace: dict[str, Any] = {
        "_text": _text, "_texts": _texts, "_actor_json": _actor_json, "iso_millis": iso_millis,
    }  # fmt: skip
    exec("\n".join(lines), namespace)
    canonical: Callable[[AuditEntry], bytes] = namespace["canonical"]
    return canonical


canonical_bytes = _compile_canonical()
canonical_bytes.__doc__ = (
    "Exactly `canonical_json(record(entry, hashed_only=True))` as UTF-8, written directly."
)


# --- the strict reading, compiled -----------------------------------------------------

# How each kind's value `v` is checked and converted into `a`: Python source over FIELDS.
# Every check is the one `_parse` makes, so the compiled reader accepts exactly what the
# generic strict reading accepts (it may give up sooner: `from_record` then falls back).
_READ: dict[Kind, str] = {
    Kind.INT: "if isinstance(v, bool) or not isinstance(v, int): raise ValueError\na = v",
    Kind.TIME: (
        "if isinstance(v, datetime): a = to_millis_utc(v)\n"
        "elif isinstance(v, str): a = to_millis_utc(datetime.fromisoformat("
        "v.replace('Z', '+00:00')))\n"
        "else: raise ValueError"
    ),
    Kind.ENUM: "a = {members}[v]",
    Kind.ENUM_LIST: (
        "if not isinstance(v, list): raise ValueError\na = tuple([{members}[i] for i in v])"
    ),
    Kind.TEXT_LIST: (
        "if not isinstance(v, list): raise ValueError\n"
        "for i in v:\n    if not isinstance(i, str): raise ValueError\n"
        "a = tuple(v)"
    ),
    Kind.BOOL: "if not isinstance(v, bool): raise ValueError\na = v",
    Kind.ACTOR: "a = actor_from(v)",
    Kind.TEXT: "if not isinstance(v, str): raise ValueError\na = v",
    Kind.OPTIONAL_TEXT: "if v is not None and not isinstance(v, str): raise ValueError\na = v",
}


def _compile_strict_reader() -> Callable[[Mapping[str, Any]], AuditEntry]:
    """Build the strict reader from FIELDS, as `canonical_bytes` is built: verification
    decodes every entry it reads, and the generic walk (`_parse` per field) costs several
    times the hash itself. A property test holds it to the generic reading."""
    namespace: dict[str, Any] = {
        "AuditEntry": AuditEntry, "actor_from": actor_from, "datetime": datetime,
        "to_millis_utc": to_millis_utc, "known": frozenset(BY_NAME),
    }  # fmt: skip
    lines = ["def read(d):", "    if not known.issuperset(d): raise ValueError", "    out = {}"]
    for number, field in enumerate(FIELDS):
        members = f"members{number}"
        if field.enum is not None:
            namespace[members] = {m.value: m for m in field.enum}
        fetch = "d.get" if field.kind is Kind.OPTIONAL_TEXT else "d.__getitem__"
        lines.append(f"    v = {fetch}({field.name!r})")
        for line in _READ[field.kind].format(members=members).split("\n"):
            lines.append("    " + line)
        lines.append(f"    out[{field.attribute!r}] = a")
    lines.append("    return AuditEntry(**out)")
    exec("\n".join(lines), namespace)
    reader: Callable[[Mapping[str, Any]], AuditEntry] = namespace["read"]
    return reader


_decode_strict = _compile_strict_reader()
