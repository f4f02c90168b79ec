"""The Telegram Bot API spec (api.json): found at run time, loaded once, compiled into fast request validators."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV = "BRANCHBOT_BOTAPI_SPEC"
PACKAGED_SPEC = Path(__file__).resolve().parent / "api.json"
# <project>/../shared/telegram-bot-api/api.json, the team's copy; the packaged one travels with the wheel.
SHARED_SPEC = Path(__file__).resolve().parents[2] / "shared" / "telegram-bot-api" / "api.json"

PRIMITIVES = ("Integer", "Float", "Boolean", "String")
# Fields whose value tells which concrete subtype an abstract type (BotCommandScope, MenuButton, ...) is.
_DISCRIMINATOR_FIELDS = ("type", "source", "status")
_DISCRIMINATOR_VALUE = re.compile(r"""(?:must be|always)\s+["“]?([a-z_]+)""")


# Telegram's own words for the missing parameters people meet most.
_MISSING_WORDING = {"text": "message text is empty"}


class SpecError(RuntimeError):
    """The spec file is missing or not shaped like api.json."""


class ValidationError(ValueError):
    """A request Telegram would refuse; `description` is the text after "Bad Request: "."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (what the spec calls InputFile)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class ValidatedCall:
    """A request's parameters after checking: typed values, plus the parameters the spec does not know."""

    params: dict[str, Any]
    unknown: list[str] = field(default_factory=list)


# A compiled check: (value, path, unknown-field sink) -> the value (possibly decoded); raises ValidationError.
Validator = Callable[[Any, str, list[str]], Any]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    validator: Validator
    # True when a form-encoded value is the raw string itself (the only allowed type is String).
    string_only: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    required: tuple[str, ...]
    returns: tuple[str, ...]


def find_spec_path(environ: Mapping[str, str] | None = None) -> Path:
    """$BRANCHBOT_BOTAPI_SPEC, else the shared copy beside the project, else the copy packaged with branchbot."""
    env = os.environ if environ is None else environ
    configured = env.get(SPEC_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise SpecError(f"{SPEC_ENV}={configured!r} is not a readable file")
        return path
    for candidate in (SHARED_SPEC, PACKAGED_SPEC):
        if candidate.is_file():
            return candidate
    raise SpecError(f"Bot API spec not found: set {SPEC_ENV} or restore {PACKAGED_SPEC}")


def _describe(types: tuple[str, ...] | list[str]) -> str:
    return " or ".join(types)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, UploadedFile):
        return "InputFile"
    if value is None:
        return "null"
    return type(value).__name__


def _wrong_type(path: str, expected: str, value: Any) -> ValidationError:
    return ValidationError(f'field "{path}" must be {expected}, got {_kind_of(value)}')


def _check_integer(value: Any, path: str, unknown: list[str]) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _wrong_type(path, "Integer", value)


def _check_float(value: Any, path: str, unknown: list[str]) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise _wrong_type(path, "Float", value)


def _instance_check(kind: type, expected: str) -> Validator:
    """A check that passes values of `kind` through unchanged and refuses anything else."""

    def check(value: Any, path: str, unknown: list[str]) -> Any:
        if isinstance(value, kind):
            return value
        raise _wrong_type(path, expected, value)

    return check


_check_boolean = _instance_check(bool, "Boolean")
_check_string = _instance_check(str, "String")
_check_input_file = _instance_check(UploadedFile, "InputFile (a multipart file upload)")
_accept_any_object = _instance_check(dict, "Object")


_PRIMITIVE_CHECKS: dict[str, Validator] = {
    "Integer": _check_integer,
    "Float": _check_float,
    "Boolean": _check_boolean,
    "String": _check_string,
    "InputFile": _check_input_file,
}


class _Compiler:
    """Turns type expressions ("Array of InlineKeyboardButton", unions, abstract types) into validators, once."""

    def __init__(self, types: Mapping[str, Any]) -> None:
        self._types = types
        self._cache: dict[str, Validator] = {}

    def expression(self, expr: str) -> Validator:
        cached = self._cache.get(expr)
        if cached is not None:
            return cached
        # Recursive types (RichText contains RichText) resolve through this indirection at call time.
        self._cache[expr] = lambda value, path, unknown: self._cache[expr](value, path, unknown)
        compiled = self._compile(expr)
        self._cache[expr] = compiled
        return compiled

    def union(self, exprs: tuple[str, ...]) -> Validator:
        if len(exprs) == 1:
            return self.expression(exprs[0])
        key = " | ".join(exprs)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        alternatives = [self.expression(e) for e in exprs]
        expected = _describe(exprs)

        def check_union(value: Any, path: str, unknown: list[str]) -> Any:
            best: tuple[int, Any, list[str]] | None = None
            errors: list[ValidationError] = []
            for alternative in alternatives:
                sink: list[str] = []
                try:
                    checked = alternative(value, path, sink)
                except ValidationError as exc:
                    errors.append(exc)
                    continue
                if not sink:
                    return checked
                if best is None or len(sink) < best[0]:
                    best = (len(sink), checked, sink)
            if best is not None:
                unknown.extend(best[2])
                return best[1]
            # Prefer an error from inside a matching shape over "must be X or Y".
            for exc in errors:
                if not exc.description.startswith(f'field "{path}" must be'):
                    raise exc
            raise _wrong_type(path, expected, value)

        self._cache[key] = check_union
        return check_union

    def _compile(self, expr: str) -> Validator:
        if expr.startswith("Array of "):
            return self._array(expr[len("Array of "):])
        primitive = _PRIMITIVE_CHECKS.get(expr)
        if primitive is not None:
            return primitive
        definition = self._types.get(expr)
        if definition is None:
            raise SpecError(f"type {expr!r} is used but not defined in the spec")
        if definition.get("subtypes"):
            return self._abstract(expr, tuple(definition["subtypes"]))
        if not definition.get("fields"):
            return _accept_any_object
        return self._object(expr, definition["fields"])

    def _array(self, item_expr: str) -> Validator:
        item = self.expression(item_expr)

        def check_array(value: Any, path: str, unknown: list[str]) -> Any:
            if not isinstance(value, list):
                raise _wrong_type(path, f"Array of {item_expr}", value)
            return [item(element, f"{path}[{index}]", unknown) for index, element in enumerate(value)]

        return check_array

    def _object(self, type_name: str, fields: list[dict[str, Any]]) -> Validator:
        field_checks = {f["name"]: self.union(tuple(f["types"])) for f in fields}
        required = tuple(f["name"] for f in fields if f.get("required"))

        def check_object(value: Any, path: str, unknown: list[str]) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path, type_name, value)
            for name in required:
                if name not in value:
                    raise ValidationError(f'field "{path}.{name}" is required in {type_name}')
            checked: dict[str, Any] = {}
            for name, element in value.items():
                check = field_checks.get(name)
                if check is None:
                    unknown.append(f"{path}.{name}")
                    checked[name] = element
                else:
                    checked[name] = check(element, f"{path}.{name}", unknown)
            return checked

        return check_object

    def _abstract(self, type_name: str, subtypes: tuple[str, ...]) -> Validator:
        by_tag: dict[str, Validator] = {}
        tag_field: str | None = None
        for subtype in subtypes:
            definition = self._types.get(subtype) or {}
            for candidate in definition.get("fields") or ():
                if candidate["name"] in _DISCRIMINATOR_FIELDS:
                    match = _DISCRIMINATOR_VALUE.search(candidate.get("description", ""))
                    if match:
                        tag_field = candidate["name"]
                        by_tag[match.group(1)] = self.expression(subtype)
                    break
        if tag_field is None or len(by_tag) != len(subtypes):
            # No reliable discriminator (e.g. InputMessageContent): the first subtype that fits wins.
            return self.union(subtypes)
        field_name = tag_field

        def check_tagged(value: Any, path: str, unknown: list[str]) -> Any:
            if not isinstance(value, dict):
                raise _wrong_type(path, type_name, value)
            tag = value.get(field_name)
            check = by_tag.get(tag) if isinstance(tag, str) else None
            if check is None:
                raise ValidationError(
                    f'field "{path}.{field_name}" must be one of {", ".join(sorted(by_tag))} for {type_name}'
                )
            return check(value, path, unknown)

        return check_tagged


class ApiSpec:
    """The compiled spec: method lookup (case-insensitive, like Telegram) and request validation."""

    def __init__(self, document: Mapping[str, Any], source: Path | None = None) -> None:
        try:
            self.version: str = str(document["version"])
            raw_methods: Mapping[str, Any] = document["methods"]
            raw_types: Mapping[str, Any] = document["types"]
        except (KeyError, TypeError) as exc:
            raise SpecError(f"not a Bot API spec (needs version, methods, types): {source}") from exc
        self.source = source
        self.types = raw_types
        compiler = _Compiler(raw_types)
        self.methods: dict[str, MethodSpec] = {}
        for name, definition in raw_methods.items():
            fields: dict[str, FieldSpec] = {}
            for raw_field in definition.get("fields") or ():
                types = tuple(raw_field["types"])
                fields[raw_field["name"]] = FieldSpec(
                    name=raw_field["name"],
                    types=types,
                    required=bool(raw_field.get("required")),
                    validator=compiler.union(types),
                    string_only=types == ("String",),
                )
            self.methods[name] = MethodSpec(
                name=name,
                fields=fields,
                required=tuple(n for n, f in fields.items() if f.required),
                returns=tuple(definition.get("returns") or ()),
            )
        self._by_lower = {name.lower(): name for name in self.methods}
        self._returns: dict[str, Validator] = {
            name: compiler.union(spec.returns) for name, spec in self.methods.items() if spec.returns
        }
        self.type_validators: dict[str, Validator] = {
            name: compiler.expression(name) for name in raw_types if name not in PRIMITIVES
        }

    def canonical_method(self, name: str) -> str | None:
        """The spec's spelling of a method name, or None when Telegram has no such method."""
        return self._by_lower.get(name.lower())

    def validate(self, method: str, params: Mapping[str, Any], *, form_encoded: bool = False) -> ValidatedCall:
        """Check `params` against `method`'s fields; raises ValidationError with Telegram-like wording.

        `form_encoded`: values came as form fields, where Telegram reads non-string parameters as JSON text.
        A JSON body may also carry objects as JSON text (a common client habit Telegram accepts).
        """
        spec = self.methods[method]
        for name in spec.required:
            if name not in params or params[name] is None or params[name] == "":
                raise ValidationError(_MISSING_WORDING.get(name, f"parameter \"{name}\" is required"))
        result = ValidatedCall(params={})
        for name, value in params.items():
            field_spec = spec.fields.get(name)
            if field_spec is None:
                result.unknown.append(name)
                result.params[name] = value
                continue
            if value is None:
                continue
            if isinstance(value, str) and not field_spec.string_only:
                value = _decode_text_value(value, field_spec, form_encoded)
            result.params[name] = field_spec.validator(value, name, result.unknown)
        return result

    def check_result(self, method: str, result: Any) -> list[str]:
        """Check what a method answered against its spec'd return type; returns fields the spec lacks."""
        unknown: list[str] = []
        check = self._returns.get(method)
        if check is not None:
            check(result, "result", unknown)
        return unknown

    def validate_type(self, type_name: str, value: Any, path: str = "value") -> list[str]:
        """Check one object against a spec type (used for what the server itself sends); returns unknown fields."""
        unknown: list[str] = []
        self.type_validators[type_name](value, path, unknown)
        return unknown


def _decode_text_value(value: str, field_spec: FieldSpec, form_encoded: bool) -> Any:
    """A text value for a non-String field: JSON text for numbers, booleans, objects and arrays."""
    stripped = value.strip()
    if not stripped:
        return value
    looks_structured = stripped[0] in "[{"
    if not form_encoded and not looks_structured:
        return value  # in a JSON body, "123" for an Integer field stays a string and fails the type check
    allows_string = "String" in field_spec.types
    try:
        decoded = json.loads(stripped)
    except ValueError:
        if looks_structured and not allows_string:
            raise ValidationError(f'can\'t parse field "{field_spec.name}" as JSON') from None
        if not allows_string and stripped.lower() in ("true", "false") and "Boolean" in field_spec.types:
            return stripped.lower() == "true"
        return value
    if allows_string and not _field_accepts(field_spec.types, _kind_of(decoded)):
        return value  # e.g. a file_id of digits for "InputFile or String" stays the string it is
    return decoded


def _field_accepts(types: tuple[str, ...], kind: str) -> bool:
    if kind in ("Boolean", "Integer", "Float"):
        return kind in types or (kind == "Integer" and "Float" in types)
    if kind == "Array":
        return any(t.startswith("Array of ") for t in types)
    if kind == "Object":
        return any(t not in PRIMITIVES and t != "InputFile" and not t.startswith("Array of ") for t in types)
    return False


def load_spec_file(path: Path) -> ApiSpec:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read Bot API spec {path}: {exc}") from exc
    return ApiSpec(document, source=path)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> ApiSpec:
    return load_spec_file(Path(path))


def load_spec(path: Path | str | None = None) -> ApiSpec:
    """The compiled spec, built once per file per process (validators are precomputed)."""
    resolved = Path(path) if path is not None else find_spec_path()
    return _load_cached(str(resolved.resolve()))
