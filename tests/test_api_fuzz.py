"""Property-based run over the whole OpenAPI document (/api/v1/openapi.json): schemathesis
generates requests for every operation and sends them in-process to the app (its WSGI
transport, no server) as the demo customer, butler and supplier. No request may answer 5xx,
and every error must be the JSON error shape. Per role and operation:

- schemathesis's coverage phase where the role holds the operation's resource (elsewhere every
  case would stop at 403): each parameter and field at and just past its declared bounds,
  every wrong type, each required field missing — deterministic;
- hypothesis fuzzing, valid and schema-breaking (negative) inputs, with generated path ids,
  with ids at the edges of a 64-bit integer whatever the document declares, and with ids of
  live orders in the states their moves need, so generated bodies reach the operations.

Bounded to fit the suite: API_FUZZ_EXAMPLES fuzzing examples per operation, mode and target
(default 6 on SQLite; 2 on PostgreSQL, where the run is slower and what it adds is the
database's own limits: 32-bit columns, no NUL in text), derandomized so a run is repeatable.
The case counts are printed at the end of the pytest run (tests/conftest.py). A longer hunt:
    API_FUZZ_EXAMPLES=200 API_FUZZ_SEED=7 .venv/bin/python -m pytest tests/test_api_fuzz.py
"""
import os
import time
from collections import Counter

import pytest
import schemathesis
from api_client import ApiClient
from api_world import (
    BUTLER,
    CUSTOMER,
    SUPPLIER,
    at_shop,
    ensure_profiles,
    in_repair,
    place,
    repaired,
    returned,
    shop,
    staff,
    user,
)
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from console import orders
from console.models import Butler
from console.orders import aftersales
from console.system import rbac

ROLES = {"customer": CUSTOMER, "butler": BUTLER, "supplier": SUPPLIER}
EXAMPLES = {"sqlite": 6, "postgres": 2}
SEED = int(os.environ.get("API_FUZZ_SEED", "0"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
EDGE_IDS = (0, 2**31, 2**63 - 1, 2**63, 2**64, 10**30)


def live_records():
    """Records in the states the operations need: {path parameter: [ids]}."""
    butler = Butler.get(Butler.user == user(BUTLER))
    task, assigned = place(needs_butler=True), place(needs_butler=True)
    orders.assign(assigned, butler, user("dispatcher@demo.local"), "最近")
    reported = in_repair(place())
    report = aftersales.post_progress(reported, staff(SUPPLIER), "刹车片磨损", cost_change_fen=5000,
                                      lines=[{"kind": "part", "name": "刹车片", "qty": 1,
                                              "unit_fen": 5000}])
    moved = [place(), at_shop(place()), in_repair(place()), repaired(place()),
             returned(place()), task, assigned, reported]
    return {"order_id": [o.id for o in moved], "report_id": [report.id],
            "supplier_id": [shop().id]}


def targets(operation, live):
    """Path parameters to try the operation with: generated ones (None), ids at the edges of
    what a database integer holds (whatever the document declares), then live ids."""
    names = [p.name for p in operation.path_parameters]
    yield None
    if names and all(name in live for name in names):
        yield st.fixed_dictionaries({name: st.sampled_from(EDGE_IDS) for name in names})
        yield st.fixed_dictionaries({name: st.sampled_from(live[name]) for name in names})


def check(response, failures, case):
    if response.status_code >= 500:
        failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.content[:200]!r}")
    elif response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0]
        if not content_type.startswith("application/json") or b'"error"' not in response.content:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} "
                            f"not in the JSON error shape: {response.content[:200]!r}")


def examples(backend):
    return int(os.environ.get("API_FUZZ_EXAMPLES") or EXAMPLES[backend])


def send(case, headers, counts, failures):
    counts[case.operation.label] += 1
    try:
        response = case.call(headers=headers)
    except Exception as exc:  # propagated from the app: it would have answered 500
        failures.append(f"{case.method} {case.formatted_path}: {exc!r}")
        return
    check(response, failures, case)


def boundaries(schema, operation, headers, counts, failures):
    """Schemathesis's coverage phase: each parameter and field at and just past its bounds
    (an id of 2^63-1 and 2^63, a string one too long, every wrong type, a missing field)."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    for case in schema.iter_coverage_cases(operation, generation_modes=list(MODES),
                                           generation_config=config):
        send(case, headers, counts, failures)


def fuzz(operation, mode, fixed, headers, counts, failures, max_examples):
    strategy = operation.as_strategy(generation_mode=mode) if fixed is None else fixed.flatmap(
        lambda path: operation.as_strategy(generation_mode=mode, path_parameters=path))

    @seed(SEED)
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=not SEED,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        send(case, headers, counts, failures)
    run()


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_request_gets_a_server_error(app, client, backend, role, record_property):
    ensure_profiles()
    live = live_records()
    token = ApiClient(app, client).as_(ROLES[role]).token
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # logging out ends the token the rest of the run uses: last
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: "logout" in op.path)
    counts, failures = Counter(), []
    started, cpu = time.perf_counter(), time.process_time()
    headers = {"Authentication-Token": token}
    account = user(ROLES[role])
    for operation in operations:
        resource = operation.definition.raw.get("x-rbac-resource")
        if resource is None or rbac.can(account, resource):  # elsewhere all would be 403
            boundaries(schema, operation, headers, counts, failures)
        for fixed in targets(operation, live):
            for mode in MODES:
                try:
                    fuzz(operation, mode, fixed, headers, counts, failures,
                         examples(backend))
                except Exception as exc:  # nothing to generate (no input to break)
                    if "Unsatisfiable" not in type(exc).__name__ and \
                            "generat" not in str(exc).lower():
                        raise
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    total = sum(counts.values())
    record_property("api_fuzz", {"backend": backend, "role": role, "cases": total,
                                 "operations": len(counts), "seconds": round(seconds, 1),
                                 "cpu": round(cpu, 1),
                                 "server_errors": len(failures)})  # conftest.py prints it
    assert set(counts) == {op.label for op in operations}, "an operation got no case"
    assert not failures, "\n".join(failures[:20])
