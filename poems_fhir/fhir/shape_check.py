# SPDX-License-Identifier: Apache-2.0
"""fhir.resources validation of our own output, memoised by shape.

Validating a write-back Bundle with fhir.resources builds ~240 pydantic models and cost ~25 ms per
patient: more than evaluating the patient. Whether a Bundle validates depends only on its *shape*:
which elements it has, how they nest, list or not, which resource types it holds, and, for each
primitive value, which FHIR primitive types accept it (the model picks the type from the element
name; enum values are not checked by fhir.resources). So the shape is the JSON tree with every
element name kept, every ``resourceType`` kept, list items as a set of item shapes, and every
string/number/boolean replaced by the vector of "accepted by FHIR type T" for all 21 primitive types,
computed with the very validators fhir.resources uses. Two Bundles of the same shape validate alike;
a shape seen valid before is not validated again. A new shape is validated in full (and only a valid
one is remembered), so the answer is always the one fhir.resources would give.

Where the element's declared type is known (the model's field, found from the resource type down), a
primitive value is classified by that one type's validator instead of all 21: the same verdict, since
that validator is the one the model runs there. Anything not resolved that way (an unknown element, a
plain ``bool`` field) gets the full vector.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: shapes remembered per process (a few hundred distinct ones in practice)
MAX_SHAPES = 10_000
#: primitive values whose class is remembered (codes, systems, dates repeat across patients)
MAX_VALUES = 100_000
MAX_REMEMBERED_LENGTH = 200


@lru_cache(maxsize=1)
def _adapters() -> tuple[Any, ...]:
    import typing

    from fhir.resources.R4B import fhirtypes
    from fhir_core.fhirabstractmodel import FHIRAbstractModel
    from pydantic import ConfigDict, TypeAdapter

    config = ConfigDict(**{k: v for k, v in FHIRAbstractModel.model_config.items() if k != "extra"})  # type: ignore[typeddict-item]
    primitive = [
        getattr(fhirtypes, name)
        for name in sorted(dir(fhirtypes))
        if typing.get_origin(getattr(fhirtypes, name)) is typing.Annotated
        and not hasattr(typing.get_args(getattr(fhirtypes, name))[0], "model_fields")
    ]
    return tuple(TypeAdapter(t, config=config) for t in [*primitive, bool])


_Kind = tuple[str, Any]  # ("primitive", adapter) | ("model", class) | ("resource", None) | ("any", None)


@lru_cache(maxsize=None)
def _model_class(name: str) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(name)
    except (KeyError, ValueError, ImportError, AttributeError):
        return None


@lru_cache(maxsize=None)
def _fields(model: Any) -> dict[str, _Kind]:
    """JSON element name -> what the model declares there."""
    return {(f.alias or name): _declared(f) for name, f in model.model_fields.items()}


@lru_cache(maxsize=None)
def _adapter(declared: Any) -> Any:
    from fhir_core.fhirabstractmodel import FHIRAbstractModel
    from pydantic import ConfigDict, TypeAdapter

    config = ConfigDict(**{k: v for k, v in FHIRAbstractModel.model_config.items() if k != "extra"})  # type: ignore[typeddict-item]
    return TypeAdapter(declared, config=config)


def _declared(field: Any) -> _Kind:
    import types
    import typing

    a = field.annotation
    for _ in range(3):  # Optional[List[X]], List[X] | None, ...
        origin = typing.get_origin(a)
        if origin in (typing.Union, types.UnionType):
            args = [x for x in typing.get_args(a) if x is not type(None)]
            if len(args) != 1:
                return ("any", None)
            a = args[0]
        elif origin is list:
            a = typing.get_args(a)[0]
    if typing.get_origin(a) is typing.Annotated:
        declared = typing.Annotated[(a, *field.metadata)] if field.metadata else a  # type: ignore[valid-type]
        try:
            return ("primitive", _adapter(declared))  # fields of one primitive type share its validator
        except TypeError:  # metadata that cannot be hashed: this field's own validator
            return ("primitive", _adapter.__wrapped__(declared))
    name = getattr(a, "__name__", "")
    if getattr(a, "__module__", "") == "abc" and name.endswith("Type"):
        if name == "ResourceType":
            return ("resource", None)
        model = _model_class(name[:-4])
        return ("model", model) if model is not None else ("any", None)
    return ("any", None)


class ShapeCache:
    """Remembers the shapes of Bundles fhir.resources accepted."""

    def __init__(self) -> None:
        self.valid: set[Any] = set()
        self.classes: dict[tuple[type, Any], tuple[bool, ...]] = {}
        self.verdicts: dict[tuple[int, type, Any], bool] = {}  # (declared type, value) -> accepted
        self.validated = 0  # full validations run (a new shape each)

    def _class(self, value: Any) -> tuple[bool, ...]:
        key = (type(value), value)
        found = self.classes.get(key)
        if found is None:
            found = tuple(_accepts(a, value) for a in _adapters())
            if isinstance(value, str) and len(value) > MAX_REMEMBERED_LENGTH:
                return found  # pages, narratives: unique per patient, and large
            if len(self.classes) >= MAX_VALUES:
                self.classes.clear()
            self.classes[key] = found
        return found

    def shape(self, value: Any, key: str = "") -> Any:
        """The shape of ``value`` (hashable): element names, nesting, resource types, value classes."""
        classes = self.classes
        verdicts = self.verdicts

        def walk(v: Any, k: str, kind: _Kind) -> Any:
            t = type(v)
            if t is list:
                return ("[", frozenset([walk(x, k, kind) for x in v]))
            if t is dict:
                what, target = kind
                if what == "resource":
                    target = _model_class(v["resourceType"]) if isinstance(v.get("resourceType"), str) else None
                elif what != "model":
                    target = None
                fields = _fields(target) if target is not None else {}
                return frozenset([(k2, walk(v2, k2, fields.get(k2, ANY))) for k2, v2 in v.items()])
            if k == "resourceType" or v is None:
                return v
            if kind[0] == "primitive":
                key = (id(kind[1]), t, v)
                ok = verdicts.get(key)
                if ok is None:
                    ok = _accepts(kind[1], v)
                    if not (t is str and len(v) > MAX_REMEMBERED_LENGTH):
                        if len(verdicts) >= MAX_VALUES:
                            verdicts.clear()
                        verdicts[key] = ok
                return ok
            found = classes.get((t, v))
            return found if found is not None else self._class(v)

        rtype = value.get("resourceType") if isinstance(value, dict) else None
        return walk(value, key, ("resource", None) if isinstance(rtype, str) else ANY)

    def check(self, bundle: dict[str, Any]) -> str | None:
        """None when fhir.resources accepts ``bundle``, else its first complaint. Each resource (and
        each contained one) is judged on its own, then its container with a stand-in in its place:
        fhir.resources validates an entry's or a contained resource by that resource's own model, so
        this is the same verdict, and resources repeat their shapes far more often than Bundles."""
        entries: list[Any] = bundle["entry"] if isinstance(bundle.get("entry"), list) else []
        for entry in entries:
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            contained = resource.get("contained")
            for inner in contained if isinstance(contained, list) else []:
                if isinstance(inner, dict) and (problem := self._check_one(inner)):
                    return problem
            if isinstance(contained, list) and contained and all(isinstance(c, dict) for c in contained):
                resource = {**resource, "contained": [STAND_IN]}
            if problem := self._check_one(resource):
                return problem
        if entries and all(isinstance(e, dict) and isinstance(e.get("resource"), dict) for e in entries):
            bundle = {**bundle, "entry": [{**e, "resource": STAND_IN} for e in entries]}
        return self._check_one(bundle)

    def _check_one(self, resource: dict[str, Any]) -> str | None:
        from pydantic import ValidationError

        from .write import _model

        shape = self.shape(resource)
        if shape in self.valid:
            return None
        self.validated += 1
        rtype = resource.get("resourceType")
        try:
            _model(rtype if isinstance(rtype, str) and rtype.isalpha() else "Bundle").model_validate(resource)
        except (ValidationError, ImportError, AttributeError) as exc:
            if not isinstance(exc, ValidationError):
                return f"unknown resourceType {rtype!r}"
            return f"{exc.errors()[0]['msg']} at {rtype} {exc.errors()[0]['loc']}"
        if len(self.valid) >= MAX_SHAPES:
            self.valid.clear()
        self.valid.add(shape)
        return None


ANY: _Kind = ("any", None)

#: what stands in for a resource already judged on its own: the smallest valid resource
STAND_IN: dict[str, Any] = {"resourceType": "Basic", "code": {"text": "judged separately"}}


def _accepts(adapter: Any, value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except Exception:  # noqa: BLE001 - any refusal (ValidationError, ValueError from a validator) is "no"
        return False
    return True
