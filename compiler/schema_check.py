"""JSON Schema validation with errors placed on the offending key or value.

jsonschema reports an unknown key at its parent mapping and an `anyOf`
failure as a vague summary; users need the line of the key itself and the
branch that almost matched, so each error kind is translated here.
"""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from dsl.diagnostics import Collector
from dsl.loader import Document, YamlPath, path_text
from dsl.suggest import did_you_mean
from schemas import load_schema

__all__ = ["check_schema", "is_condition_path"]

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
    return repr(value)


def _expected(schema: dict[str, Any]) -> str:
    t = schema.get("type")
    if isinstance(t, list):
        return " or ".join(_TYPE_WORDS.get(x, x) for x in t)
    return _TYPE_WORDS.get(t, str(t))


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
    validator = _validator(kind)  # type: ignore[arg-type]
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        _report(doc, error, out)


def _report(doc: Document, error: ValidationError, out: Collector,
            described: str | None = None) -> None:
    """Translate one error; `described` is the enclosing anyOf's description, used as hint."""
    path: YamlPath = tuple(error.absolute_path)
    if is_condition_path(path) or (is_condition_path((*path, "x", "y")) and len(path) == 3
                                   and error.validator == "anyOf"):
        return
    src = doc.source
    where = path_text(path) or "(document)"
    v, schema, inst = error.validator, error.schema, error.instance
    desc = schema.get("description") or described
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
                out.error(src.key(kpath), "S001", f"unknown key '{key}' in {where}",
                          did_you_mean(str(key), allowed) or f"allowed keys: {', '.join(allowed)}",
                          path_text(kpath))
    elif v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        pos = src.key(path) if path else doc.pos
        desc = schema.get("properties", {}).get(missing, {}).get("description", "")
        out.error(pos, "S002", f"missing required key '{missing}' in {where}",
                  f"add {missing}: ..." + (f" ({desc})" if desc else ""), where)
    elif v in ("enum", "const"):
        options = schema.get("enum") or [schema.get("const")]
        hint = did_you_mean(str(inst), [str(o) for o in options])
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
