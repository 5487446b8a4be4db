"""The simulator answers as docs/core-system.openapi.json says, and the document covers every route."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ivr.core_system import CoreSystemSimulator

from .conftest import CORE_KEY, TODAY

SPEC: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "core-system.openapi.json").read_text(encoding="utf-8")
)
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def violations(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Check against the JSON Schema subset the contract uses ($ref, type, required, properties, ...)."""
    if "$ref" in schema:
        return violations(value, SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], where)
    kind = schema.get("type")
    if kind is not None:
        wrong_bool = kind in ("integer", "number") and isinstance(value, bool)
        if not isinstance(value, _TYPES[kind]) or wrong_bool:
            return [f"{where}: {value!r} is not {kind}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where}: {value!r} below {schema['minimum']}")
    if isinstance(value, dict):
        problems += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += violations(value[key], sub, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += violations(item, schema["items"], f"{where}[{i}]")
    return problems


def documented(method: str, path: str, status: int) -> dict[str, Any]:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    entry = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    schema: dict[str, Any] = entry["content"]["application/json"]["schema"]
    return schema


CASES = [
    ("GET", "/customers/{number}", "/customers/1000000001", None, {}, 200),
    ("GET", "/customers/{number}", "/customers/1012312240000003", None, {}, 200),
    ("GET", "/customers/{number}", "/customers/42", None, {}, 404),
    ("POST", "/verifications", "/verifications", {"customer_no": "1000000003", "answer": "23111990"},
     {}, 200),
    ("POST", "/verifications", "/verifications", {"customer_no": "1000000003", "answer": "23"}, {}, 422),
    ("GET", "/contracts/{contract_no}/bill", "/contracts/1012321240000002/bill", None, {}, 200),
    ("GET", "/contracts/{contract_no}/bill", "/contracts/1012311230000004/bill", None, {}, 200),
    ("GET", "/contracts/{contract_no}/bill", "/contracts/1/bill", None, {}, 404),
    (
        "POST", "/payments", "/payments",
        {"contract_no": "1012311240000001", "option_code": "PERPANJANGAN", "amount": 172_500,
         "channel": "ivr"},
        {"Idempotency-Key": "contract-paid"}, 201,
    ),
    (
        "POST", "/payments", "/payments",
        {"contract_no": "1012322240000005", "option_code": "ANGSURAN", "amount": 465_400},
        {"Idempotency-Key": "contract-declined"}, 200,
    ),
    (
        "POST", "/payments", "/payments",
        {"contract_no": "1012311240000001", "option_code": "CICIL", "amount": 1},
        {"Idempotency-Key": "contract-bad-option"}, 422,
    ),
    ("POST", "/payments", "/payments", {"contract_no": "1012311240000001"}, {}, 400),
]  # fmt: skip


@pytest.mark.parametrize(("method", "template", "path", "body", "headers", "status"), CASES)
async def test_answers_match_the_documented_schema(
    method: str, template: str, path: str, body: Any, headers: dict[str, str], status: int
) -> None:
    async with (
        CoreSystemSimulator(api_key=CORE_KEY, customers=0, today=TODAY) as sim,
        aiohttp.ClientSession(headers={"X-API-Key": CORE_KEY}) as http,
        http.request(method, sim.base_url + path, json=body, headers=headers) as resp,
    ):
        assert resp.status == status, await resp.text()
        assert violations(await resp.json(), documented(method, template, status)) == []


async def test_every_simulated_route_is_documented_and_nothing_else(core_sim: CoreSystemSimulator) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in core_sim.app.router.routes()
        if route.resource is not None and not route.resource.canonical.startswith("/_simulator/")
        and route.method != "HEAD"
    }  # fmt: skip
    documented_routes = {(m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops}
    assert served == documented_routes


def test_the_document_is_openapi_3_1_with_resolvable_references() -> None:
    assert SPEC["openapi"].startswith("3.1")
    text = json.dumps(SPEC)
    for name in set(re.findall(r'"#/components/schemas/(\w+)"', text)):
        assert name in SPEC["components"]["schemas"]


def test_the_validator_catches_a_broken_document() -> None:
    broken = {"contract_no": "1012311240000001", "customer_name": "X", "amount_due": "12", "options": [{}]}
    problems = violations(broken, {"$ref": "#/components/schemas/Bill"})
    assert "$.amount_due: '12' is not integer" in problems
    assert "$.due_date: missing" in problems
    assert "$.options[0].code: missing" in problems
