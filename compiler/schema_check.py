"""JSON Schema validation with errors placed on the offending key or value.

jsonschema reports an unknown key at its parent mapping and an `anyOf`
failure as a vague summary; users need the line of the key itself and the
branch that almost matched, so each error kind is translated here.
"""
from __future__ import annotations

import math
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from compiler.timeframes import TIMEFRAMES, duration_ms, timeframe_hint
from dsl.diagnostics import Collector
from dsl.loader import Document, YamlPath, path_text
from dsl.suggest import did_you_mean
from schemas import load_schema

__all__ = ["accepted_range", "check_schema", "is_condition_path"]

_TYPE_WORDS = {"number": "a number", "integer": "a whole number", "string": "a string",
               "object": "a mapping", "array": "a list", "boolean": "true or false", "null": "empty"}
_validators: dict[str, Draft202012Validator] = {}


def is_condition_path(path: YamlPath) -> bool:
    """Paths inside entry/exit condition trees are checked by the grammar, not the schema."""
    return len(path) >= 4 and path[0] == "spec" and path[1] in ("entry", "exit")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of {value.bit_length()} bits"  # repr() refuses over 4300 digits
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:36]}…{text[-1]}"  # the caret shows the rest


def _expected(schema: dict[str, Any]) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        return " or ".join(_TYPE_WORDS.get(str(x), str(x)) for x in t)
    return _TYPE_WORDS.get(str(t), str(t))


def _validator(kind: str) -> Draft202012Validator:
    if kind not in _validators:
        _validators[kind] = Draft202012Validator(load_schema(kind))
    return _validators[kind]


def _pick_branch(error: ValidationError) -> ValidationError | None:
    """Of an anyOf's branches, the failure from the one whose type matched the value."""
    typed = [e for e in error.context or [] if e.validator not in ("type", "$ref") and len(e.relative_schema_path) > 1]
    typed = [e for e in typed if e.validator != "pattern" or isinstance(e.instance, str)]
    return min(typed, key=lambda e: len(e.relative_path)) if typed else None


def check_schema(doc: Document, out: Collector) -> None:
    kind = doc.kind
    assert kind is not None  # the caller checked it
    _check_numbers_and_keys(doc, load_schema(kind), out)
    validator = _validator(kind)
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        if not doc.source.is_rejected(tuple(error.absolute_path)):  # the loader reported it
            _report(doc, error, out)


# -- what JSON Schema cannot see in YAML: non-finite numbers and keys that are not strings --------

def _branches(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """`schema` with its `$ref` followed and its `anyOf` spread into alternatives."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        return [b for alt in schema["anyOf"] for b in _branches(alt, root)]
    return [schema]


def _schemas_at(root: dict[str, Any], path: YamlPath) -> list[dict[str, Any]]:
    """The alternatives of the schema that governs the value at `path`."""
    current = [root]
    for part in path:
        found: list[dict[str, Any]] = []
        for schema in (b for s in current for b in _branches(s, root)):
            props, extra, items = schema.get("properties", {}), schema.get("additionalProperties"), schema.get("items")
            if isinstance(part, str) and part in props:
                found.append(props[part])
            elif not isinstance(part, int) and isinstance(extra, dict):
                found.append(extra)
            elif isinstance(part, int) and isinstance(items, dict):
                found.append(items)
        current = found
    return [b for s in current for b in _branches(s, root)]


_BOUND_WORDS = (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<="))


def accepted_range(root: dict[str, Any], path: YamlPath) -> str:
    """`a finite number > -1 and < 0`: what the schema accepts as a number at `path`."""
    for schema in _schemas_at(root, path):
        kind = schema.get("type")
        if kind in ("number", "integer") or (isinstance(kind, list) and "number" in kind):
            bounds = [f"{word} {schema[key]:g}" for key, word in _BOUND_WORDS if key in schema]
            noun = "a whole number" if kind == "integer" else "a finite number"
            return noun + (" " + " and ".join(bounds) if bounds else "")
    return "a finite number"


def _check_numbers_and_keys(doc: Document, root: dict[str, Any], out: Collector) -> None:
    """NaN and infinity pass every JSON Schema bound (NaN compares false), and YAML allows a
    number as a key where JSON has only strings: both are caught here, at the offending item."""
    stack: list[tuple[YamlPath, Any]] = [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                kpath = (*path, key)
                if not isinstance(key, str):
                    _key_not_a_string(doc, kpath, key, out)
                stack.append((kpath, item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif is_condition_path(path):
            continue  # numbers in conditions are checked where conditions are resolved
        elif isinstance(value, float) and not math.isfinite(value):
            where = path_text(path)
            out.error(doc.source.value(path), "S006", f"{where} was {_describe(value)}, which is not a number "
                      "SuperBot can use", f"write {accepted_range(root, path)}", where)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _LARGEST:
            where = path_text(path)
            out.error(doc.source.value(path), "S006", f"{where} was {_describe(value)}, too large to compute with",
                      f"write {accepted_range(root, path)}", where)


_LARGEST = 2 ** 63  # beyond this an integer overflows the engine's int64 arrays and clocks


def _key_not_a_string(doc: Document, kpath: YamlPath, key: Any, out: Collector) -> None:
    where = path_text(kpath[:-1]) or "(document)"
    if kpath[:-1] == ("spec", "risk", "roi") and isinstance(key, int):
        hint = f"write {key}m: a duration needs its unit (m, h, d or w)"
    else:
        hint = f"quote it: '{key}'"
    out.error(doc.source.key(kpath), "S005", f"key {key!r} in {where} is a number; keys are text", hint,
              f"{where}.{key}")


def _report(doc: Document, error: ValidationError, out: Collector,
            described: str | None = None) -> None:
    """Translate one error; `described` is the enclosing anyOf's description, used as hint."""
    path: YamlPath = tuple(error.absolute_path)
    if is_condition_path(path) or (is_condition_path((*path, "x", "y")) and len(path) == 3
                                   and error.validator == "anyOf"):
        return
    src = doc.source
    where = path_text(path) or "(document)"
    v, inst = error.validator, error.instance
    # our schemas are objects all the way down: jsonschema types this as "a schema or a bool"
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    desc: str | None = schema.get("description") or described
    if len(error.schema_path) >= 2 and error.schema_path[-2] == "propertyNames":
        v = "propertyNames"  # jsonschema reports a bad key as the key's own failure at the mapping
    if v == "anyOf":
        branch = _pick_branch(error)
        if branch is not None:
            _report(doc, branch, out, desc)
            return
        alternatives = [b.get("description") or _expected(b) for b in schema["anyOf"]]
        out.error(src.value(path), "S004", f"{where} was {_describe(inst)}",
                  "expected " + "; or ".join(a.rstrip(".") for a in alternatives[:3]), where)
    elif v == "additionalProperties" and isinstance(inst, dict):
        allowed = list(schema.get("properties", {}))
        for key in inst:
            if key not in allowed:
                kpath = (*path, key)
                key_hint = did_you_mean(str(key), allowed) or f"allowed keys: {', '.join(allowed)}"
                if key in ("all", "any", "not") and path in (("spec",), ("spec", "entry"), ("spec", "exit")):
                    key_hint = f"a condition block goes under long: or short:; indent '{key}:' further"
                out.error(src.key(kpath), "S001", f"unknown key '{key}' in {where}", key_hint, path_text(kpath))
    elif v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        pos = src.key(path) if path else doc.pos
        desc = schema.get("properties", {}).get(missing, {}).get("description", "")
        out.error(pos, "S002", f"missing required key '{missing}' in {where}",
                  f"add {missing}: ..." + (f" ({desc})" if desc else ""), where)
    elif v in ("enum", "const"):
        options = schema.get("enum") or [schema.get("const")]
        hint = did_you_mean(str(inst), [str(o) for o in options])
        if options == list(TIMEFRAMES) and isinstance(inst, str):  # nearest by duration, not by spelling
            hint = timeframe_hint(inst).split(";")[0] if duration_ms(inst) is not None else hint
        out.error(src.value(path), "S003", f"{where} was {_describe(inst)}; expected one of: "
                  + ", ".join(str(o) for o in options), hint or "pick one of the listed values", where)
    elif v == "type":
        out.error(src.value(path), "S004", f"{where} was {_describe(inst)}, expected {_expected(schema)}",
                  desc, where)
    elif v == "propertyNames":
        bad = inst if isinstance(inst, str) else None
        kpath = (*path, bad) if bad is not None else path
        out.error(src.key(kpath), "S005", f"key '{bad}' in {where} is not valid",
                  schema.get("description") or "use letters, digits and '_'", path_text(kpath))
    elif v in ("minItems", "maxItems", "minProperties", "maxProperties"):
        out.error(src.value(path), "S005", f"{where}: {error.message}", desc, where)
    elif v == "pattern":
        out.error(src.value(path), "S005", f"{where} was {_describe(inst)}, which is not valid here",
                  desc, where)
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        out.error(src.value(path), "S006", f"{where} was {_describe(inst)}; it must be {bound} {error.validator_value}",
                  desc, where)
    else:
        out.error(src.value(path), "S000", f"{where}: {error.message}", desc, where)
