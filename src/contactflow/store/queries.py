"""Query layer: result documents by recipe, engine, system and a small, safe ``--where`` language.

The ``--where`` language is parsed here into a MongoDB filter — never evaluated. Field names are
checked against the document's pydantic schema and values are converted to the field's type, so a
typo or a wrong type is a :class:`QueryError` that names what is valid, not an empty result.

Grammar (case-insensitive keywords)::

    expression := clause ( ("and" | "&&" | ";") clause )*
    clause     := FIELD OP VALUE | FIELD ("in" | "not in") LIST
    LIST       := VALUE ("," VALUE)* | "[" VALUE ("," VALUE)* "]"
    OP         := "==" | "=" | "!=" | ">" | ">=" | "<" | "<="
    VALUE      := number | true | false | null | 'quoted' | "quoted" | bare-word

Examples: ``w_sep_J_per_m2>1.0``, ``state==successful``, ``engine in chgnet+d3,cp2k:pbe-d3``,
``recipe_name in ["si_graphite", "si_graphene"]``, ``provenance.device == cpu and strain_pct <= 2``,
``settings.relax == true``. A connective with no clause after it (``x > 1 and``) is an error that names
its position, never an ignored clause.

For users who already write MongoDB filters, :func:`parse_raw_filter` accepts one as JSON
(``{"w_sep_J_per_m2": {"$gt": 0.5}}``): field names are checked against the schema like ``--where``
and only the operators in :data:`RAW_OPERATORS` are allowed (no ``$where``, ``$function``, ``$expr``).
"""

import difflib
import json
import re
import types
import typing
from datetime import datetime
from typing import Any, Literal, Union

from pydantic import BaseModel

from contactflow.errors import ContactflowError


class QueryError(ContactflowError, ValueError):
    """A query names an unknown kind or field, or a ``--where`` expression is not a valid filter."""


#: CLI names of the queryable kinds → collection names they may be registered under (first wins).
#: Later packages register their DocKind in :data:`contactflow.store.client.KINDS`; the query layer
#: finds them here without importing those packages.
QUERY_KINDS: dict[str, tuple[str, ...]] = {
    "interfaces": ("interfaces",),
    "adhesion": ("adhesion",),
    "traction-separation": ("traction_separation", "traction", "traction-separation", "czm"),
    "barriers": ("barriers", "barrier", "neb"),
    "md": ("md", "molecular_dynamics"),
    "diffusion": ("diffusion", "diffusivity"),
    "descriptors": ("descriptors", "descriptor"),
}

def producing_task(kind: str) -> str:
    """The recipe task that produces documents of ``kind`` (for "run this task" messages), from the
    task registry."""
    from contactflow.flows.tasks import TASKS

    colls = QUERY_KINDS.get(kind, (kind,))
    return next((t.name for t in TASKS.values() if t.kind in colls or t.kind == kind.replace("-", "_")),
                "build" if kind == "interfaces" else kind)


_OPS = {"==": "$eq", "=": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}
_FIELD_RE = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
_CLAUSE_RE = re.compile(
    rf"^\s*(?P<field>{_FIELD_RE})\s*"
    r"(?P<op>==|!=|>=|<=|=|>|<|(?i:not\s+in)(?=[\s'\"])|(?i:in)(?=[\s'\"]))\s*(?P<value>.*?)\s*$",
    re.S,
)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# ---------------------------------------------------------------------------------------------
# kinds and schema fields


def resolve_kind(name: str):
    """The registered :class:`~contactflow.store.client.DocKind` for a CLI kind or collection name.

    Raises
    ------
    QueryError
        If the name is unknown, or names a kind whose package has not registered a document type.
    """
    from contactflow.store.client import KINDS

    if name in KINDS:
        return KINDS[name]
    if name.replace("-", "_") in KINDS:
        return KINDS[name.replace("-", "_")]
    if name not in QUERY_KINDS:
        raise QueryError(f"unknown document kind {name!r}; valid kinds: {', '.join(QUERY_KINDS)}")
    for coll in QUERY_KINDS[name]:
        if coll in KINDS:
            return KINDS[coll]
    raise QueryError(
        f"no '{name}' documents can exist yet: no document type for them is registered in this "
        f"installation (task '{producing_task(name)}'); registered kinds: {', '.join(KINDS)}"
    )


def cli_name(kind_name: str) -> str:
    """The CLI name of a collection name (``traction_separation`` → ``traction-separation``)."""
    for cli, colls in QUERY_KINDS.items():
        if kind_name in colls:
            return cli
    return kind_name


class FieldSpec:
    """Type of one queryable field: ``number``, ``integer``, ``text``, ``bool``, ``datetime``,
    ``enum`` (with ``choices``) or ``any`` (free-form dict content)."""

    def __init__(self, kind: str, choices: tuple = (), optional: bool = True, description: str = "",
                 array: bool = False):
        self.kind, self.choices, self.optional, self.description = kind, choices, optional, description
        self.array = array  # a list field: a scalar condition matches any element

    def __repr__(self) -> str:
        return f"FieldSpec({self.kind!r}{', ' + repr(self.choices) if self.choices else ''})"


def _strip_optional(ann) -> tuple[Any, bool]:
    origin = typing.get_origin(ann)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) < len(typing.get_args(ann))
        if len(args) == 1:
            return args[0], optional
        return ann, optional
    return ann, False


def _leaf_spec(ann, optional: bool, description: str) -> "FieldSpec | dict":
    origin = typing.get_origin(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return schema_fields(ann)
    if origin is Literal:
        return FieldSpec("enum", typing.get_args(ann), optional, description)
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(ann) if a is not Ellipsis]
        inner, _ = _strip_optional(args[0]) if args else (Any, True)
        # MongoDB matches a scalar against the elements of an array field
        spec = _leaf_spec(inner, optional, description)
        if isinstance(spec, FieldSpec):
            spec.array = True
        return spec
    if origin is dict or ann is dict:
        return FieldSpec("dict", (), optional, description)
    if ann is bool:
        return FieldSpec("bool", (), optional, description)
    if ann is int:
        return FieldSpec("integer", (), optional, description)
    if ann is float:
        return FieldSpec("number", (), optional, description)
    if ann is str:
        return FieldSpec("text", (), optional, description)
    if ann is datetime:
        return FieldSpec("datetime", (), optional, description)
    return FieldSpec("any", (), optional, description)


def schema_fields(model: type[BaseModel]) -> dict[str, "FieldSpec | dict"]:
    """Queryable fields of a pydantic document model: name → :class:`FieldSpec`, or a nested dict
    of the same for sub-models (e.g. ``provenance``)."""
    out: dict[str, FieldSpec | dict] = {}
    for name, info in model.model_fields.items():
        ann, optional = _strip_optional(info.annotation)
        out[name] = _leaf_spec(ann, optional or not info.is_required(), info.description or "")
    return out


def flat_fields(model: type[BaseModel]) -> dict[str, FieldSpec]:
    """Dotted field paths of a model (``provenance.engine`` …) → :class:`FieldSpec`."""
    out: dict[str, FieldSpec] = {}

    def walk(prefix: str, fields: dict):
        for k, v in fields.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            else:
                out[prefix + k] = v

    walk("", schema_fields(model))
    return out


def field_spec(model: type[BaseModel], path: str, kind_label: str = "") -> FieldSpec:
    """The :class:`FieldSpec` of a dotted field path, or a :class:`QueryError` naming close matches.

    Keys inside free-form dict fields (``settings.relax``, ``composition.Si``) are accepted with
    type ``any``.
    """
    fields: dict = schema_fields(model)
    parts = path.split(".")
    for i, part in enumerate(parts):
        spec = fields.get(part)
        if spec is None:
            break
        if isinstance(spec, dict):
            if i == len(parts) - 1:
                raise QueryError(f"field {path!r} is a group, not a value; use one of: "
                                 + ", ".join(f"{path}.{k}" for k in spec))
            fields = spec
            continue
        if i == len(parts) - 1:
            return spec
        if spec.kind in ("dict", "any"):
            return FieldSpec("any", (), True, spec.description)
        break
    valid = list(flat_fields(model))
    close = difflib.get_close_matches(path, valid, n=3, cutoff=0.5)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    label = f" of {kind_label} documents" if kind_label else f" of {model.__name__}"
    raise QueryError(f"unknown field {path!r}{label}{hint}; valid fields: {', '.join(valid)}")


# ---------------------------------------------------------------------------------------------
# the --where language


def _split_outside_quotes(text: str, sep_re: re.Pattern) -> list[str]:
    """Split ``text`` on ``sep_re`` matches that are not inside single or double quotes."""
    parts, buf, quote, i = [], [], None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "'\"":
            quote = ch
            buf.append(ch)
            i += 1
            continue
        m = sep_re.match(text, i)
        if m and m.end() > i:
            parts.append("".join(buf))
            buf = []
            i = m.end()
            continue
        buf.append(ch)
        i += 1
    if quote:
        raise QueryError(f"unterminated {quote} quote in {text!r}")
    parts.append("".join(buf))
    return parts


_AND_RE = re.compile(r"\s+(?i:and)\s+|\s*&&\s*|\s*;\s*")
_COMMA_RE = re.compile(r"\s*,\s*")


def _unquote(tok: str) -> tuple[str, bool]:
    tok = tok.strip()
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "'\"":
        return tok[1:-1], True
    return tok, False


def _convert(raw: str, spec: FieldSpec, field: str) -> Any:
    """Convert one literal to the field's type (quoted literals stay text)."""
    text, quoted = _unquote(raw)
    if not text and not quoted:
        raise QueryError(f"missing value after the operator for field {field!r}")
    low = text.lower()
    if not quoted and low in ("null", "none"):
        return None
    if spec.kind in ("number", "integer"):
        if quoted or not _NUMBER_RE.match(text):
            raise QueryError(f"field {field!r} is a number{_units(field)}; {raw.strip()!r} is not a number")
        val = float(text)
        return int(val) if spec.kind == "integer" and val.is_integer() else val
    if spec.kind == "bool":
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise QueryError(f"field {field!r} is true/false; got {raw.strip()!r}")
    if spec.kind == "datetime":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise QueryError(f"field {field!r} is a date-time; {raw.strip()!r} is not ISO 8601 "
                             "(e.g. 2026-05-01 or 2026-05-01T12:00:00+00:00)") from None
    if spec.kind == "enum":
        if text not in spec.choices:
            raise QueryError(f"field {field!r} must be one of {', '.join(map(str, spec.choices))}; got {text!r}")
        return text
    if spec.kind in ("any", "dict") and not quoted:
        if low in ("true", "false"):
            return low == "true"
        if _NUMBER_RE.match(text):
            return float(text)
    return text


def _units(field: str) -> str:
    m = re.search(r"_(J_per_m2|GPa|eV|A2|A|K|pct|s|fs|ps|cm2_per_s|m2_per_s|eV_per_A|GPa_per_A)$", field)
    return f" ({m.group(1)})" if m else ""


def parse_clause(clause: str, model: type[BaseModel], kind_label: str = "") -> dict:
    """One ``FIELD OP VALUE`` clause → a MongoDB filter ``{field: {op: value}}``."""
    m = _CLAUSE_RE.match(clause)
    if not m:
        raise QueryError(
            f"cannot read {clause.strip()!r} as FIELD OP VALUE; operators: == != > >= < <= in, not in "
            "(e.g. 'w_sep_J_per_m2>1.0', 'state==successful', 'engine in chgnet+d3,cp2k')"
        )
    field, op, value = m.group("field"), re.sub(r"\s+", " ", m.group("op").lower()), m.group("value")
    spec = field_spec(model, field, kind_label)
    stripped = value.strip()
    bracketed = stripped.startswith("[") or (stripped.startswith("(") and op in ("in", "not in"))
    if bracketed:
        close = "]" if stripped[0] == "[" else ")"
        if not stripped.endswith(close):
            raise QueryError(f"{clause.strip()!r}: the list opened with {stripped[0]!r} is not closed with {close!r}; "
                             f"e.g. '{field} in [a, b]'")
        if op not in ("in", "not in"):
            raise QueryError(f"{clause.strip()!r}: a list of values needs 'in' or 'not in', e.g. '{field} in {stripped}'")
        value = stripped[1:-1]
    if op in ("in", "not in"):
        items = [v for v in _split_outside_quotes(value, _COMMA_RE)]
        if not value.strip() or any(not v.strip() for v in items):
            raise QueryError(f"'{field} {op}' needs a comma-separated list of values, e.g. '{field} {op} a,b' "
                             f"or '{field} {op} [\"a\", \"b\"]'")
        vals = [_convert(v, spec, field) for v in items]
        return {field: {"$in" if op == "in" else "$nin": vals}}
    val = _convert(value, spec, field)
    mop = _OPS[op]
    if mop in ("$gt", "$gte", "$lt", "$lte"):
        if val is None:
            raise QueryError(f"'{op} null' is not a comparison; use '{field} == null' or '{field} != null'")
        if spec.kind in ("text", "enum", "bool") or (spec.kind in ("any", "dict") and isinstance(val, str)):
            raise QueryError(f"operator {op} needs a number or date; field {field!r} is {spec.kind}")
    return {field: {mop: val}}


#: equality on these fields selects few documents: they lead the filter (see :func:`_merge`)
_SELECTIVE = ("doc_key", "interface_id", "recipe_name", "label", "recipe_hash")
#: few distinct values: they go last
_COARSE = ("engine", "system", "region", "relaxed", "state")


def _rank(field: str, cond, indexed: tuple[str, ...]) -> tuple:
    eq = not isinstance(cond, dict) or "$eq" in cond or "$in" in cond
    if field in _SELECTIVE and eq:
        return (0, _SELECTIVE.index(field))
    if field in indexed and field not in _COARSE:
        return (1, 0)
    if field in _COARSE:
        return (3, _COARSE.index(field))
    return (2, 0)


def _merge(filters: list[dict], indexed: tuple[str, ...] = ()) -> dict:
    """AND-combine single-field filters into one flat filter, most selective field first.

    The embedded server (SecantusDB) picks an index from the *first* field of a filter and does not
    look inside ``$and``; measured on 20,000 documents, ``{recipe_name, state}`` took 11 ms and
    ``{state, recipe_name}`` or ``{"$and": [...]}`` 1.5 s. So clauses are merged into one flat
    document (ranges on one field into one operator dict), ordered identity fields → other indexed
    fields → the rest → coarse fields (engine, system, state); ``$and`` is used only for clauses that
    cannot share a key. MongoDB's planner is indifferent to the order, so this costs nothing there.
    """
    out: dict = {}
    extra: list[dict] = []
    for f in filters:
        for field, cond in f.items():
            if field == "$and":
                extra.extend(cond)
            elif field not in out:
                out[field] = cond
            elif isinstance(out[field], dict) and isinstance(cond, dict) and not set(out[field]) & set(cond) \
                    and all(k.startswith("$") for k in (*out[field], *cond)):
                out[field] = {**out[field], **cond}
            else:
                extra.append({field: cond})
    ordered = dict(sorted(out.items(), key=lambda kv: _rank(kv[0], kv[1], indexed)))
    if extra:
        ordered["$and"] = extra
    return ordered


def _where_clauses(expr, model: type[BaseModel], kind_label: str = "") -> list[dict]:
    exprs = [expr] if isinstance(expr, str) else list(expr)
    clauses: list[dict] = []
    for e in exprs:
        if e is None:
            continue
        if re.search(r"\s(?i:or)\s|\|\|", e) and not re.search(r"['\"]", e):
            raise QueryError(f"{e!r}: only 'and' combines clauses (no 'or'); use 'FIELD in a,b' for alternatives")
        _check_connectives(e)
        for part in _split_outside_quotes(e, _AND_RE):
            if part.strip():
                clauses.append(parse_clause(part, model, kind_label))
    return clauses


#: a connective as the ``--where`` splitter sees it (``and`` as a word, ``&&``, ``;``)
_CONNECTIVE_RE = re.compile(r"(?<![\w.])(?i:and)(?![\w.])|&&|;")


def _mask_quotes(text: str) -> str:
    """``text`` with the inside of quoted literals replaced by ``_`` (same length), so positions hold."""
    out, quote = [], None
    for ch in text:
        if quote:
            out.append(ch if ch == quote else "_")
            if ch == quote:
                quote = None
        else:
            if ch in "'\"":
                quote = ch
            out.append(ch)
    if quote:
        raise QueryError(f"unterminated {quote} quote in {text!r}")
    return "".join(out)


def _check_connectives(expr: str) -> None:
    """Raise a QueryError naming the position of a connective with no clause before or after it."""
    masked = _mask_quotes(expr)
    seps = list(_CONNECTIVE_RE.finditer(masked))
    if not seps:
        return
    bounds = [0, *[x for m in seps for x in (m.start(), m.end())], len(masked)]
    gaps = [masked[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]
    example = "e.g. 'w_sep_J_per_m2 > 1 and state == successful'"
    for i, m in enumerate(seps):
        word, pos = m.group(0), m.start() + 1
        if not gaps[i].strip():
            where = "starts the expression" if i == 0 else f"follows {seps[i - 1].group(0)!r} with no clause between them"
            raise QueryError(f"--where {expr!r}: {word!r} at position {pos} {where}; each {word!r} joins two "
                             f"clauses FIELD OP VALUE, {example}")
        if i == len(seps) - 1 and not gaps[i + 1].strip():
            raise QueryError(f"--where {expr!r}: {word!r} at position {pos} ends the expression; a clause "
                             f"FIELD OP VALUE must follow it, {example}")


def parse_where(expr: str | list[str] | tuple[str, ...], model: type[BaseModel], kind_label: str = "") -> dict:
    """Parse one or several ``--where`` expressions (ANDed) into a MongoDB filter.

    Raises
    ------
    QueryError
        If a clause is malformed, names an unknown field, or a value does not fit the field's type.
    """
    return _merge(_where_clauses(expr, model, kind_label))


# ---------------------------------------------------------------------------------------------
# raw MongoDB filters (JSON)

#: operators a raw filter may use: comparisons, membership, existence, array size/all, and logic
RAW_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$all", "$size",
                           "$not", "$and", "$or", "$nor"})
_RAW_LOGIC = ("$and", "$or", "$nor")
_RAW_MAX_BYTES = 20_000
_RAW_MAX_DEPTH = 8


def parse_raw_filter(text: str, model: type[BaseModel], kind_label: str = "") -> dict:
    """Validate a MongoDB filter given as JSON against a document schema.

    Parameters
    ----------
    text
        JSON object, e.g. ``{"w_sep_J_per_m2": {"$gt": 0.5}, "state": "successful"}``.
    model
        The pydantic document model whose fields may be named.
    kind_label
        Kind name for messages.

    Returns
    -------
    dict
        The filter, with date-time strings of date-time fields turned into ``datetime``.

    Raises
    ------
    QueryError
        If the text is not a JSON object, names an unknown field, uses an operator outside
        :data:`RAW_OPERATORS` (``$where``, ``$function``, ``$expr``, ``$regex`` … are refused), or a
        value does not fit its field's type.
    """
    if len(text.encode()) > _RAW_MAX_BYTES:
        raise QueryError(f"--filter is longer than {_RAW_MAX_BYTES} bytes")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise QueryError(f"--filter is not valid JSON ({str(exc)[:120]}); expected an object such as "
                         '\'{"w_sep_J_per_m2": {"$gt": 0.5}}\'') from None
    if not isinstance(data, dict):
        raise QueryError(f"--filter must be a JSON object mapping fields to conditions, got {type(data).__name__}")
    return _raw_doc(data, model, kind_label, 0)


def _raw_doc(doc: dict, model, label: str, depth: int) -> dict:
    if depth > _RAW_MAX_DEPTH:
        raise QueryError(f"--filter nests deeper than {_RAW_MAX_DEPTH} levels")
    out: dict = {}
    for key, cond in doc.items():
        if key.startswith("$"):
            if key not in _RAW_LOGIC:
                raise QueryError(_bad_op(key, "at the top of a filter (only $and, $or, $nor there)"))
            if not isinstance(cond, list) or not cond or not all(isinstance(c, dict) for c in cond):
                raise QueryError(f"--filter: {key} takes a non-empty list of filter objects")
            out[key] = [_raw_doc(c, model, label, depth + 1) for c in cond]
            continue
        spec = field_spec(model, key, label)
        out[key] = _raw_cond(key, cond, spec, depth + 1)
    return out


def _bad_op(op: str, where: str) -> str:
    return f"--filter: operator {op!r} is not allowed {where}; allowed: {', '.join(sorted(RAW_OPERATORS))}"


def _raw_cond(field: str, cond, spec: "FieldSpec", depth: int):
    if depth > _RAW_MAX_DEPTH:
        raise QueryError(f"--filter nests deeper than {_RAW_MAX_DEPTH} levels")
    if not isinstance(cond, dict) or not any(k.startswith("$") for k in cond):
        return _raw_value(field, cond, spec)
    out = {}
    for op, v in cond.items():
        if op not in RAW_OPERATORS or op in _RAW_LOGIC:
            raise QueryError(_bad_op(op, f"on field {field!r}"))
        if op in ("$in", "$nin", "$all"):
            if not isinstance(v, list):
                raise QueryError(f"--filter: {field}.{op} takes a list of values")
            out[op] = [_raw_value(field, x, spec) for x in v]
        elif op == "$exists":
            if not isinstance(v, bool):
                raise QueryError(f"--filter: {field}.$exists takes true or false")
            out[op] = v
        elif op == "$size":
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise QueryError(f"--filter: {field}.$size takes a non-negative integer")
            out[op] = v
        elif op == "$not":
            if not isinstance(v, dict):
                raise QueryError(f"--filter: {field}.$not takes an operator object, e.g. {{\"$gt\": 1}}")
            out[op] = _raw_cond(field, v, spec, depth + 1)
        else:
            val = _raw_value(field, v, spec)
            if op in ("$gt", "$gte", "$lt", "$lte") and (val is None or isinstance(val, (bool, dict, list))):
                raise QueryError(f"--filter: {field}.{op} needs a number, date or text, got {json_type(v)}")
            out[op] = val
    return out


def json_type(v) -> str:
    """JSON type name of a decoded value (for messages)."""
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number")


def _raw_value(field: str, v, spec: "FieldSpec"):
    """Check one literal against the field's type; date-time strings become ``datetime``."""
    if v is None or spec.kind in ("any", "dict"):
        if isinstance(v, dict) and any(str(k).startswith("$") for k in _walk_keys(v)):
            raise QueryError(f"--filter: operators inside the value of {field!r} are not allowed")
        return v
    ok = {
        "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
        "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
        "bool": lambda x: isinstance(x, bool),
        "text": lambda x: isinstance(x, str),
        "enum": lambda x: x in spec.choices,
        "datetime": lambda x: isinstance(x, str),
    }.get(spec.kind, lambda x: not isinstance(x, (dict, list)))
    if not ok(v):
        want = f"one of {', '.join(map(str, spec.choices))}" if spec.kind == "enum" else f"a {spec.kind}"
        raise QueryError(f"--filter: field {field!r} takes {want}; got {json.dumps(v)[:60]}")
    if spec.kind == "datetime":
        try:
            return datetime.fromisoformat(v)
        except ValueError:
            raise QueryError(f"--filter: field {field!r} is a date-time; {v!r} is not ISO 8601") from None
    return v


def _walk_keys(d):
    if isinstance(d, dict):
        for k, v in d.items():
            yield k
            yield from _walk_keys(v)
    elif isinstance(d, list):
        for x in d:
            yield from _walk_keys(x)


# ---------------------------------------------------------------------------------------------
# filters and queries


def build_filter(
    kind: str,
    recipe: str | None = None,
    engine: str | None = None,
    system: str | None = None,
    where: str | list[str] | tuple[str, ...] | None = None,
    store=None,
    raw_filter: str | None = None,
) -> dict:
    """MongoDB filter for documents of ``kind`` matching every given criterion.

    ``raw_filter`` is a MongoDB filter as JSON, checked by :func:`parse_raw_filter` and ANDed with the rest.

    Recipe and system filter the document's own ``recipe_name``/``system`` fields; for a kind whose
    schema lacks them but has ``interface_id``, they select via the matching interfaces (needs
    ``store``).
    """
    dk = resolve_kind(kind)
    label = cli_name(dk.name)
    fields = schema_fields(dk.model)
    clauses: list[dict] = []
    via_interfaces: dict = {}
    for value, name in ((recipe, "recipe_name"), (system, "system")):
        if not value:
            continue
        if name in fields:
            clauses.append({name: value})
        elif "interface_id" in fields:
            via_interfaces[name] = value
        else:
            opt = "--recipe" if name == "recipe_name" else "--system"
            raise QueryError(f"{label} documents carry neither {name} nor interface_id; {opt} cannot select them")
    if engine:
        if "engine" not in fields:
            raise QueryError(f"{label} documents carry no engine field; --engine cannot select them")
        clauses.append({"engine": engine})
    if via_interfaces:
        if store is None:
            raise QueryError("selecting by recipe/system through interfaces needs a store")
        ids = [d["interface_id"] for d in store.find("interfaces", via_interfaces, projection={"interface_id": 1})]
        clauses.append({"interface_id": {"$in": ids}})
    if where:
        clauses += _where_clauses(where, dk.model, label)
    if raw_filter:
        raw = parse_raw_filter(raw_filter, dk.model, label)
        clauses += [{k: v} for k, v in raw.items() if not k.startswith("$")]
        clauses += [{"$and": [{k: v}]} for k, v in raw.items() if k.startswith("$")]
    return _merge(clauses, (dk.key, *dk.indexes))


def default_sort(kind: str) -> list[tuple[str, int]]:
    """A stable, useful order per kind: recipe, then the headline number descending."""
    dk = resolve_kind(kind)
    fields = schema_fields(dk.model)
    sort = [(f, 1) for f in ("recipe_name", "system") if f in fields]
    for headline in ("w_sep_J_per_m2", "sigma_max_GPa", "barrier_forward_eV", "barrier_eV"):
        if headline in fields:
            sort.append((headline, -1))
            break
    return sort + [(f, 1) for f in ("interface_id", "engine") if f in fields]


def query(
    store,
    kind: str,
    recipe: str | None = None,
    engine: str | None = None,
    system: str | None = None,
    where: str | list[str] | tuple[str, ...] | None = None,
    sort: list[tuple[str, int]] | None = None,
    limit: int = 0,
    projection: dict | None = None,
    raw_filter: str | None = None,
) -> list[dict]:
    """Documents of ``kind`` matching the criteria (see :func:`build_filter`), ``_id`` removed."""
    dk = resolve_kind(kind)
    flt = build_filter(kind, recipe, engine, system, where, store, raw_filter=raw_filter)
    return store.find(dk.name, flt, sort=sort if sort is not None else default_sort(kind), limit=limit,
                      projection=projection)


def default_columns(kind: str, max_numbers: int = 7) -> list[tuple[str, str]]:
    """Table columns for a kind: identity fields, then scalar result fields with units in the name."""
    dk = resolve_kind(kind)
    flat = flat_fields(dk.model)
    cols = [(f, f.replace("_name", "")) for f in ("recipe_name", "system", "interface_id", "engine", "state")
            if f in flat]
    if dk.name == "interfaces":
        cols = [c for c in cols if c[0] != "state"]
    n = 0
    for name, spec in flat.items():
        if "." in name or spec.kind not in ("number", "integer") or spec.array or name in dict(cols):
            continue
        if re.search(r"_(J_per_m2|GPa|eV|A2|A|K|pct|m2_per_s|cm2_per_s|ps|fs|s)$", name) or name == "n_atoms":
            cols.append((name, name))
            n += 1
            if n >= max_numbers:
                break
    return cols


# ---------------------------------------------------------------------------------------------
# the same interfaces across engines

#: engine-spec prefixes treated as the reference level of theory when no reference is given
DFT_PREFIXES = ("cp2k", "vasp", "qe", "dft", "gpaw", "orca")
HEADLINE = {"adhesion": "w_sep_J_per_m2", "traction-separation": "sigma_max_GPa", "barriers": "barrier_forward_eV"}


def _finished(doc: dict) -> str:
    prov = doc.get("provenance") or {}
    t = prov.get("finished_at") or prov.get("started_at")
    return t.isoformat() if isinstance(t, datetime) else str(t or "")


def compare_engines(
    store,
    kind: str = "adhesion",
    field: str | None = None,
    recipe: str | None = None,
    system: str | None = None,
    where: str | list[str] | None = None,
    reference: str | None = None,
    include_single: bool = False,
    group_by: str = "interface_id",
) -> dict:
    """The same interfaces (or hops) computed with several engines, side by side, with differences.

    Parameters
    ----------
    kind
        Document kind (``adhesion``, ``traction-separation``, ``barriers`` …).
    field
        Number to compare (default: the kind's headline, e.g. ``w_sep_J_per_m2``).
    reference
        Engine the others are compared with (default: a DFT engine if present, else the engine
        with most results).
    include_single
        Also list groups computed with one engine only.
    group_by
        Field that identifies "the same" system (``interface_id``; for barriers ``label`` is also useful).

    Returns
    -------
    dict
        ``engines``, ``reference``, ``field``, ``rows`` (one per group: ``values`` per engine and
        ``diff``/``rel_diff_pct`` vs the reference) and ``summary`` (per engine: n, mean signed and
        mean absolute difference).
    """
    dk = resolve_kind(kind)
    label = cli_name(dk.name)
    field = field or HEADLINE.get(label)
    if field is None:
        raise QueryError(f"give --field for {label} documents (a numeric field such as one ending in _eV)")
    spec = field_spec(dk.model, field, label)
    if spec.kind not in ("number", "integer"):
        raise QueryError(f"field {field!r} is {spec.kind}, not a number; compare needs a numeric field")
    field_spec(dk.model, group_by, label)
    clauses = ["state == successful"] if "state" in schema_fields(dk.model) else []
    clauses += [where] if isinstance(where, str) else list(where or [])
    docs = query(store, kind, recipe=recipe, system=system, where=clauses)
    groups: dict[str, dict[str, dict]] = {}
    for d in docs:
        g, eng, val = d.get(group_by), d.get("engine"), d.get(field)
        if g is None or eng is None or val is None:
            continue
        cur = groups.setdefault(g, {}).get(eng)
        if cur is None or _finished(d) > _finished(cur):  # the latest result per (group, engine)
            groups[g][eng] = d
    engines = sorted({e for by_eng in groups.values() for e in by_eng})
    if reference is None:
        dft = [e for e in engines if e.split(":")[0].split("+")[0].lower() in DFT_PREFIXES]
        counts = {e: sum(e in by for by in groups.values()) for e in engines}
        reference = dft[0] if dft else (max(engines, key=lambda e: (counts[e], e)) if engines else None)
    elif reference not in engines:
        raise QueryError(f"reference engine {reference!r} has no {label} results here; engines: "
                         f"{', '.join(engines) or 'none'}")
    rows, per_engine = [], {e: [] for e in engines if e != reference}
    for g, by_eng in sorted(groups.items(), key=lambda kv: (str(next(iter(kv[1].values())).get("recipe_name")), kv[0])):
        if len(by_eng) < 2 and not include_single:
            continue
        any_doc = next(iter(by_eng.values()))
        values = {e: float(d[field]) for e, d in by_eng.items()}
        ref_val = values.get(reference)
        diff, rel = {}, {}
        for e, v in values.items():
            if e == reference or ref_val is None:
                continue
            diff[e] = v - ref_val
            rel[e] = (v - ref_val) / abs(ref_val) * 100 if ref_val else None
            per_engine[e].append(diff[e])
        rows.append({group_by: g, "recipe_name": any_doc.get("recipe_name"), "system": any_doc.get("system"),
                     "values": values, "diff": diff, "rel_diff_pct": rel})
    summary = {e: {"n": len(v), "mean_diff": sum(v) / len(v) if v else None,
                   "mean_abs_diff": sum(abs(x) for x in v) / len(v) if v else None}
               for e, v in per_engine.items()}
    return {"kind": label, "field": field, "group_by": group_by, "reference": reference, "engines": engines,
            "rows": rows, "summary": summary}
