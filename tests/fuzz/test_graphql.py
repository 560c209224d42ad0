"""Schemathesis against a running securescore server with demo data: every query and mutation
of the introspected schema, with generated arguments, as a platform admin and as the demo
tenant's GlobalAdmin. Fails on a 5xx, an INTERNAL error, or a response that is not GraphQL JSON.

Run by run.sh, which starts the server and sets SECURESCORE_URL and the tokens."""

import datetime
import json
import os
import string

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

URL = os.environ["SECURESCORE_URL"] + "/graphql"
TOKENS = {
    "platform-admin": os.environ["SECURESCORE_PLATFORM_TOKEN"],
    "global-admin": os.environ["SECURESCORE_TENANT_TOKEN"],
}
EXAMPLES = int(os.environ.get("SECURESCORE_FUZZ_EXAMPLES", "50"))

# Dates around the demo's history, and a few far outside it.
DATES = st.one_of(
    st.dates(datetime.date(2025, 1, 1), datetime.date(2027, 12, 31)),
    st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)),
)
schemathesis.graphql.scalar("Date", DATES.map(lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar(
    "DateTime",
    st.datetimes(datetime.datetime(1990, 1, 1), datetime.datetime(2030, 1, 1)).map(
        lambda t: nodes.String(t.replace(tzinfo=datetime.timezone.utc).isoformat())
    ),
)


def json_node(value):
    """A GraphQL literal for a JSON value."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([json_node(v) for v in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=json_node(v))
            for k, v in value.items()
        ]
    )


# Facts shaped like a collector's (so that rules find their paths), with fuzzed leaves, and
# arbitrary JSON now and then.
NUMBER = st.one_of(st.integers(-5, 100_000), st.floats(allow_nan=False, allow_infinity=False))
LEAF = st.one_of(NUMBER, st.booleans(), st.text(max_size=8), st.none())
FACTS = st.one_of(
    st.fixed_dictionaries(
        {
            "users": st.fixed_dictionaries(
                {"total": NUMBER, "mfaRegistered": NUMBER, "legacyAuthBlocked": LEAF}
            ),
            "admins": st.fixed_dictionaries({"total": NUMBER, "mfaProtected": LEAF}),
            "passwordPolicy": st.fixed_dictionaries({"neverExpires": LEAF}),
            "roles": st.fixed_dictionaries({"globalAdmins": LEAF}),
        }
    ),
    st.recursive(
        LEAF,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=6), children, max_size=3),
        ),
        max_leaves=8,
    ),
)
schemathesis.graphql.scalar("JSON", FACTS.map(json_node))

schema = schemathesis.graphql.from_url(URL, headers={"Authorization": f"Bearer {TOKENS['platform-admin']}"})


@pytest.mark.parametrize("role", sorted(TOKENS))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_graphql_json_without_internal_errors(case, role):
    response = case.call(headers={"Authorization": f"Bearer {TOKENS[role]}"})
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    content_type = response.headers.get("content-type") or [""]
    if isinstance(content_type, list):
        content_type = content_type[0]
    assert content_type.startswith(
        ("application/graphql-response+json", "application/json")
    ), content_type
    body = json.loads(response.text)
    assert isinstance(body, dict) and ("data" in body or "errors" in body), response.text[:500]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL", f"INTERNAL for {case.body}: {error}"
        assert code, f"an error without extensions.code: {error}"
