#!/usr/bin/env python3
"""Trim the ConnectWise Manage OpenAPI subset down to the facts the simulator and tests use.

Usage:
    trim_openapi.py [INPUT [OUTPUT]]      write the facts file (OUTPUT, or stdout when absent)
    trim_openapi.py --check [INPUT [OUTPUT]]
                                          exit 1 if the committed OUTPUT differs from a fresh run

INPUT defaults to ../../../../shared/connectwise/manage-openapi-subset.json relative to this
script; with --check, OUTPUT defaults to connectwise-facts.json beside this script.

The output keeps facts only (paths, methods, status codes, query parameter names, schema
shapes, limits and enum values) and never the vendor's prose. It is deterministic: sorted
keys, 1-space indent, trailing newline, endpoints in the spec's path order then method order.

Rules (see README.md):
  * only schemas reachable from an endpoint's request or response are kept;
  * `$ref`s are rewritten from `#/components/schemas/X` to `#/schemas/X`;
  * `nullable: true` turns `type: t` into `type: [t, "null"]` (and adds null to an `enum`);
  * `format` is kept only for date-time, date, uuid and binary; integer/number formats are dropped;
  * `maxLength` comes from "Max length: N;" in the vendor description;
  * a bare `type: object` (no properties, no additionalProperties) becomes `{}` (any JSON):
    the vendor generator types "any value" that way (PatchOperation.value, CustomFieldValue.value)
    and real values are scalars;
  * an endpoint's `status` is its 2xx response code; a non-JSON body (pdf, file download,
    multipart upload) has `schema: null` plus its `contentType` (and, for multipart, `form`).
"""

import hashlib
import json
import os
import re
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INPUT = os.path.join(SCRIPT_DIR, "..", "..", "..", "..", "shared", "connectwise",
                             "manage-openapi-subset.json")
DEFAULT_OUTPUT = os.path.join(SCRIPT_DIR, "connectwise-facts.json")

COMPONENT_PREFIX = "#/components/schemas/"
FACTS_PREFIX = "#/schemas/"
METHOD_ORDER = ["get", "post", "put", "patch", "delete"]
KEPT_FORMATS = {"date-time", "date", "uuid", "binary"}
MAX_LENGTH = re.compile(r"Max length:\s*(\d+)")
# Schema keywords with no structural meaning that we drop; anything else unknown is an error,
# so a new construct in a refreshed spec cannot be silently lost.
IGNORED_KEYWORDS = {"description", "x-cw-source", "title", "example", "readOnly", "writeOnly"}


class SpecError(Exception):
    pass


def ref_name(ref):
    if not ref.startswith(COMPONENT_PREFIX):
        raise SpecError("unsupported $ref %r" % ref)
    return ref[len(COMPONENT_PREFIX):]


def collect_refs(node, out):
    """Add every component schema name referenced anywhere under `node` to `out`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.add(ref_name(value))
            else:
                collect_refs(value, out)
    elif isinstance(node, list):
        for item in node:
            collect_refs(item, out)


def convert(schema, where):
    """Convert one OpenAPI 3.0 schema object into a JSON Schema fragment of facts."""
    if not isinstance(schema, dict):
        raise SpecError("%s: schema is not an object" % where)
    unknown = set(schema) - IGNORED_KEYWORDS - {
        "$ref", "type", "nullable", "format", "enum", "items", "properties", "required",
        "additionalProperties", "allOf", "oneOf", "anyOf", "maxLength", "minLength",
        "minimum", "maximum", "pattern", "default",
    }
    if unknown:
        raise SpecError("%s: unsupported schema keywords %s" % (where, sorted(unknown)))

    if "$ref" in schema:
        # OpenAPI 3.0 ignores siblings of $ref; keep nullability if present by wrapping.
        target = {"$ref": FACTS_PREFIX + ref_name(schema["$ref"])}
        if schema.get("nullable"):
            return {"anyOf": [target, {"type": "null"}]}
        return target

    out = {}
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            out[combinator] = [convert(s, "%s.%s[%d]" % (where, combinator, i))
                               for i, s in enumerate(schema[combinator])]

    kind = schema.get("type")
    nullable = bool(schema.get("nullable"))
    bare_object = (kind == "object" and "properties" not in schema
                   and "additionalProperties" not in schema and not out)
    if bare_object:
        return {}
    if kind is not None:
        out["type"] = [kind, "null"] if nullable else kind
    fmt = schema.get("format")
    if fmt in KEPT_FORMATS:
        out["format"] = fmt
    if "enum" in schema:
        values = list(schema["enum"])
        if nullable and None not in values:
            values.append(None)
        out["enum"] = values
    for keyword in ("maxLength", "minLength", "minimum", "maximum", "pattern", "default"):
        if keyword in schema:
            out[keyword] = schema[keyword]
    match = MAX_LENGTH.search(schema.get("description") or "")
    if match and "maxLength" not in out:
        out["maxLength"] = int(match.group(1))
    if "items" in schema:
        out["items"] = convert(schema["items"], where + "[]")
    if "properties" in schema:
        out["properties"] = {name: convert(prop, "%s.%s" % (where, name))
                             for name, prop in schema["properties"].items()}
    if schema.get("required"):
        out["required"] = sorted(schema["required"])
    if "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        out["additionalProperties"] = (convert(extra, where + "{}")
                                       if isinstance(extra, dict) else bool(extra))
    return out


def body_facts(content, where, with_form):
    """Describe a request or response body: (facts, referenced schema names)."""
    if len(content) != 1:
        raise SpecError("%s: expected one media type, found %s" % (where, sorted(content)))
    (media_type, media), = content.items()
    schema = media.get("schema") or {}
    is_json = "json" in media_type
    array = schema.get("type") == "array"
    target = schema.get("items", {}) if array else schema
    refs = set()
    if is_json:
        if "$ref" not in target:
            raise SpecError("%s: JSON body without a $ref schema" % where)
        facts = {"schema": ref_name(target["$ref"]), "array": array}
        refs.add(facts["schema"])
    else:
        facts = {"schema": None, "array": False, "contentType": media_type}
        if with_form and schema.get("type") == "object":
            facts["form"] = convert(schema, where + ".form")
            collect_refs(schema, refs)
    if with_form:
        facts["contentType"] = media_type
    return facts, refs


def endpoint_facts(path, method, op):
    where = "%s %s" % (method.upper(), path)
    success = sorted(code for code in op.get("responses", {}) if code.startswith("2"))
    if len(success) != 1:
        raise SpecError("%s: expected one 2xx response, found %s" % (where, success))
    status = success[0]
    refs = set()
    response = None
    content = op["responses"][status].get("content")
    if content:
        response, found = body_facts(content, where + " response", with_form=False)
        refs |= found
    request = None
    if "requestBody" in op:
        request, found = body_facts(op["requestBody"]["content"], where + " request",
                                    with_form=True)
        refs |= found
    query = sorted({p["name"] for p in op.get("parameters", []) if p.get("in") == "query"})
    facts = {
        "method": method.upper(),
        "path": path,
        "status": int(status),
        "query": query,
        "request": request,
        "response": response,
    }
    return facts, refs


def reachable(components, roots):
    seen = set()
    pending = sorted(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        if name not in components:
            raise SpecError("schema %r is referenced but not defined" % name)
        seen.add(name)
        found = set()
        collect_refs(components[name], found)
        pending.extend(sorted(found - seen))
    return seen


def build(input_path):
    with open(input_path, "rb") as handle:
        raw = handle.read()
    spec = json.loads(raw.decode("utf-8"))
    components = spec.get("components", {}).get("schemas", {})

    endpoints = []
    roots = set()
    for path, item in spec["paths"].items():
        methods = [m for m in item if m in METHOD_ORDER]
        unknown = set(item) - set(METHOD_ORDER)
        if unknown:
            raise SpecError("%s: unsupported path item keys %s" % (path, sorted(unknown)))
        for method in sorted(methods, key=METHOD_ORDER.index):
            facts, refs = endpoint_facts(path, method, item[method])
            endpoints.append(facts)
            roots |= refs

    kept = reachable(components, roots)
    schemas = {name: convert(components[name], name) for name in sorted(kept)}
    return {
        "source": {
            "file": os.path.basename(input_path),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "info_version": spec.get("info", {}).get("version"),
        },
        "endpoints": endpoints,
        "schemas": schemas,
    }


def render(facts):
    return json.dumps(facts, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) > 2 or any(a.startswith("-") for a in args):
        sys.stderr.write(__doc__)
        return 2
    input_path = args[0] if args else DEFAULT_INPUT
    output_path = args[1] if len(args) > 1 else (DEFAULT_OUTPUT if check else None)
    try:
        text = render(build(input_path))
    except (OSError, ValueError, KeyError, SpecError) as err:
        sys.stderr.write("trim_openapi: %s\n" % err)
        return 2
    if check:
        try:
            with open(output_path, encoding="utf-8") as handle:
                committed = handle.read()
        except OSError as err:
            sys.stderr.write("trim_openapi: cannot read %s: %s\n" % (output_path, err))
            return 1
        if committed != text:
            sys.stderr.write(
                "trim_openapi: %s is out of date with %s; regenerate it with\n"
                "  python3 %s %s %s\n"
                % (output_path, input_path, os.path.relpath(__file__), input_path, output_path))
            return 1
        print("trim_openapi: %s is up to date" % output_path)
        return 0
    if output_path:
        with open(output_path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
