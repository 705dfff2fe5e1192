"""Every route states who may use it, and the rule is enforced."""

import pytest

from reviewmech.core.permissions import PUBLIC, SECRETARIAT, rule_for_endpoint

SAMPLE_VALUES = {"user_id": "1", "token": "not-a-real-token", "code": "FRA", "action": "approve"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        values = {name: SAMPLE_VALUES.get(name, "1") for name in rule.arguments}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<{name}>", value)
            for converter in ("int", "string", "path"):
                path = path.replace(f"<{converter}:{name}>", value)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_every_route_declares_who_may_use_it(app):
    with app.test_request_context():
        undeclared = sorted({endpoint for endpoint, _m, _p in _routes(app) if rule_for_endpoint(endpoint) is None})
    assert undeclared == []


def test_anonymous_people_are_sent_to_sign_in_for_every_non_public_route(app, client):
    checked = 0
    with app.test_request_context():
        routes = [(e, m, p) for e, m, p in _routes(app) if rule_for_endpoint(e) is not PUBLIC]
    for endpoint, method, path in routes:
        response = client.open(path, method=method)
        assert response.status_code == 302, (endpoint, method, path, response.status_code)
        assert response.location.startswith("/sign-in"), (endpoint, response.location)
        checked += 1
    assert checked >= 10


def test_people_outside_the_secretariat_are_refused_every_secretariat_route(app, person_client):
    with app.test_request_context():
        routes = [(e, m, p) for e, m, p in _routes(app) if rule_for_endpoint(e) is SECRETARIAT]
    assert routes
    for endpoint, method, path in routes:
        response = person_client.open(path, method=method)
        assert response.status_code == 403, (endpoint, method, path, response.status_code)
        assert "You do not have access to this page." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sign-in", "/password/forgot", "/healthz"])
def test_public_pages_answer_anonymous_people(client, path):
    assert client.get(path).status_code == 200
