#!/usr/bin/env python3
"""Checks recorded API responses against api/openapi.yaml: the status must be declared for the operation, the
content type must be one the spec lists, and a JSON body must be valid against its schema (JSON Schema 2020-12,
formats checked). Usage: check-api-responses.py SPEC RESPONSES.jsonl, one object per line:
{"method": "get", "path": "/api/v1/tickets/{number}", "status": 200, "content_type": "...", "body": ...}.
Exit status 0 when every response conforms; otherwise each problem is printed and the status is 1."""
import json
import sys

import jsonschema
import yaml


def follow(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def main():
    spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    problems = []
    checked = 0
    for number, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
        record = json.loads(line)
        where = f"{record['method'].upper()} {record['path']} → {record['status']}"
        operation = spec["paths"].get(record["path"], {}).get(record["method"])
        if operation is None:
            problems.append(f"{where}: no such operation in the spec")
            continue
        responses = operation["responses"]
        key = str(record["status"])
        if key not in responses:
            problems.append(f"{where}: status not declared (declared: {', '.join(responses)})")
            continue
        response = responses[key]
        response_pointer = pointer("paths", record["path"], record["method"], "responses", key)
        if "$ref" in response:
            response_pointer = response["$ref"]
            response = follow(spec, response["$ref"])
        media = (record.get("content_type") or "").split(";")[0].strip()
        content = response.get("content", {})
        if not content and not media:
            # A response the spec declares without content (204): none came.
            checked += 1
            continue
        if media not in content and not ("application/octet-stream" in content):
            problems.append(f"{where}: content type {media!r} not in {list(content)}")
            continue
        if media.endswith("json"):
            schema = dict(spec)
            schema["$ref"] = response_pointer + "/content/" + media.replace("/", "~1") + "/schema"
            validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
            for error in validator.iter_errors(record["body"]):
                problems.append(f"{where}: {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}")
        checked += 1
    for problem in problems:
        print(problem)
    print(f"check-api-responses: {checked} responses checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
