"""The OpenAPI schema validates with no warnings, describes what the API really returns,
and the docs page (Swagger UI from drf-spectacular-sidecar) loads nothing from another host."""

import json
from html import unescape
from html.parser import HTMLParser

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from recognition.api.views import JurisdictionFilter
from recognition.filters import ActionFilter, ResolutionFilter
from recognition.models import ActionClassification, Chamber, Level, Resolution, Stage
from tests import progress_records
from tests.api.test_api import JURISDICTIONS_URL, LIST_URL, STATES_URL

PATHS = {
    "/api/",
    "/api/resolutions/",
    "/api/resolutions/{id}/",
    "/api/actions/",
    "/api/jurisdictions/",
    "/api/states/",
}
CDN_HOSTS = (
    "cdn.jsdelivr.net",
    "unpkg.com",
    "cdnjs.cloudflare.com",
    "fonts.googleapis.com",
    "validator.swagger.io",
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    """`manage.py spectacular --validate --fail-on-warn`: raises on any warning or validation error."""
    path = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_validates_with_no_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS
    for path, operations in schema["paths"].items():
        assert set(operations) == {"get"}, path  # read-only


def test_generating_the_schema_leaves_the_shared_filtersets_alone(tmp_path):
    """drf-spectacular must not cache label-less form fields on ResolutionFilter's own filters."""
    call_command("spectacular", "--file", str(tmp_path / "schema.yaml"))
    for filterset_class in (ResolutionFilter, JurisdictionFilter):
        assert not [name for name, f in filterset_class.base_filters.items() if hasattr(f, "_field")]
        labels = {name: field.label for name, field in filterset_class().form.fields.items()}
        assert all(labels.values()), labels
    assert ResolutionFilter({"level": "galaxy"}).form.fields["level"].label == "Jurisdiction level"


def test_resolution_list_documents_the_list_page_parameters(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/resolutions/"]["get"]["parameters"]}
    assert set(parameters) == {*ResolutionFilter.base_filters, "page", "page_size"}
    assert parameters["state"]["explode"] is True and "TX" in parameters["state"]["schema"]["items"]["enum"]
    assert parameters["adopted_after"]["schema"] == {"type": "string", "format": "date"}
    responses = schema["paths"]["/api/resolutions/"]["get"]["responses"]
    assert {"200", "400", "404"} <= set(responses)
    jurisdiction_parameters = {p["name"] for p in schema["paths"]["/api/jurisdictions/"]["get"]["parameters"]}
    assert jurisdiction_parameters == {"state", "level", "q", "page", "page_size"}


# --- the schema describes the real responses ----------------------------------------------------


def as_json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable: true` becomes an explicit null."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validator_for(schema, path, status="200"):
    """A JSON Schema validator for the documented `status` response of GET `path`."""
    response = schema["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    root = {**as_json_schema(response), "components": as_json_schema(schema["components"])}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


@pytest.mark.django_db
def test_responses_match_the_schema(client, starter_dataset, schema):
    detail = Resolution.objects.published().filter(jurisdiction__level=Level.PLACE).first()
    checks = [
        ("/api/", "/api/"),
        ("/api/resolutions/", f"{LIST_URL}?page_size=500"),
        ("/api/resolutions/{id}/", f"{LIST_URL}{detail.pk}/"),
        ("/api/jurisdictions/", f"{JURISDICTIONS_URL}?q=mobile"),
        ("/api/jurisdictions/", f"{JURISDICTIONS_URL}?level=nation"),
        ("/api/states/", STATES_URL),
    ]
    for path, url in checks:
        response = client.get(url)
        assert response.status_code == 200, url
        errors = list(validator_for(schema, path).iter_errors(response.json()))
        assert not errors, (url, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])


@pytest.mark.django_db
def test_bad_request_matches_the_schema(client, schema):
    response = client.get(LIST_URL, {"state": "ZZ", "adopted_after": "soon"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"state", "adopted_after"}
    assert list(validator_for(schema, "/api/resolutions/", "400").iter_errors({"state": "not a list"}))
    errors = list(validator_for(schema, "/api/resolutions/", "400").iter_errors(body))
    assert not errors, [e.message for e in errors]
    for url, path in (
        (f"{LIST_URL}?page=999", "/api/resolutions/"),
        (f"{LIST_URL}0/", "/api/resolutions/{id}/"),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert not list(validator_for(schema, path, "404").iter_errors(response.json())), url


# --- stages, sessions and actions (issue 15) ---------------------------------------------------------


def properties(schema, name):
    return schema["components"]["schemas"][name]["properties"]


def resolve(schema, node):
    """The schema a property points to through `$ref` or `allOf: [$ref]`."""
    ref = node.get("$ref") or next((part["$ref"] for part in node.get("allOf", []) if "$ref" in part), None)
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def test_a_resolution_s_progress_fields_are_documented(schema):
    fields = properties(schema, "Resolution")
    stage = fields["stage"]
    assert resolve(schema, stage)["enum"] == Stage.values
    for value in Stage.values:  # each value is explained, with its rule
        assert f"`{value}`: " in stage["description"]
    assert "session_ended" in stage["description"]
    partial_date = {"type": "string", "nullable": True, "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}
    assert partial_date.items() <= fields["latest_action_on"].items()
    assert "latest action" in fields["latest_action_on"]["description"]
    assert fields["latest_action"]["type"] == "string" and fields["latest_action"]["nullable"] is True
    assert "latest recorded action" in fields["latest_action"]["description"]
    assert fields["session"]["nullable"] is True and "session or Congress" in fields["session"]["description"]
    session = resolve(schema, fields["session"])["properties"]
    assert {"name", "start_on", "end_on"} <= set(session)
    assert session["start_on"]["format"] == session["end_on"]["format"] == "date"
    assert fields["session_ended"]["type"] == "boolean"
    assert "outcome is not yet recorded" in fields["session_ended"]["description"]
    assert fields["actions_api_url"]["format"] == "uri"
    for name in ("stage", "latest_action", "latest_action_on", "latest_action_on_precision", "session"):
        assert fields[name]["readOnly"] is True and fields[name]["description"], name


def test_the_citation_fields_are_documented(schema):
    """Issue 18's columns, as /data/ describes them for the CSV: the permanent link, verification, source."""
    fields = properties(schema, "Resolution")
    assert fields["url"]["format"] == "uri" and "permanent link" in fields["url"]["description"]
    assert resolve(schema, fields["confidence"])["enum"] == ["high", "medium", "low"]
    assert "never published" in fields["confidence"]["description"]
    assert fields["last_verified_on"]["format"] == "date" and fields["last_verified_on"]["nullable"] is True
    assert "last checked" in fields["last_verified_on"]["description"]
    assert fields["source_title"]["type"] == "string" and fields["source_title"]["nullable"] is True
    assert "primary source" in fields["source_title"]["description"]
    for name in ("url", "confidence", "last_verified_on", "source_title"):
        assert fields[name]["readOnly"] is True, name


def test_an_action_s_fields_are_documented(schema):
    fields = properties(schema, "Action")
    assert set(fields) == {
        "id", "url", "resolution", "resolution_url", "resolution_api_url", "headline", "date",
        "date_precision", "chamber", "classification", "description", "source_url", "created_at", "updated_at",
    }  # fmt: skip
    assert resolve(schema, fields["classification"])["enum"] == ActionClassification.values
    assert {part["$ref"].rsplit("/", 1)[1] for part in fields["chamber"]["oneOf"]} == {
        "ChamberEnum",
        "NullEnum",
    }
    assert schema["components"]["schemas"]["ChamberEnum"]["enum"] == Chamber.values
    assert fields["date"]["pattern"] == r"^\d{4}(-\d{2}(-\d{2})?)?$"
    for name, field in fields.items():
        if name not in ("id", "updated_at"):
            assert field.get("description"), name


def test_the_stage_session_and_ordering_parameters_are_documented(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/resolutions/"]["get"]["parameters"]}
    assert parameters["stage"]["explode"] is True
    assert sorted(parameters["stage"]["schema"]["items"]["enum"]) == sorted(Stage.values)
    assert parameters["session"]["schema"] == {"type": "integer"}
    assert {"latest_action", "-latest_action"} <= set(parameters["ordering"]["schema"]["items"]["enum"])
    actions = {p["name"]: p for p in schema["paths"]["/api/actions/"]["get"]["parameters"]}
    assert set(actions) == {*ActionFilter.base_filters, "page", "page_size"} == {
        "resolution", "classification", "page", "page_size",
    }  # fmt: skip
    assert {"200", "400", "404"} <= set(schema["paths"]["/api/actions/"]["get"]["responses"])


@pytest.mark.django_db
def test_progress_responses_match_the_schema(client, schema):
    records = progress_records.build()
    checks = [
        ("/api/resolutions/", f"{LIST_URL}?page_size=500"),
        ("/api/resolutions/{id}/", f"{LIST_URL}{records[0].pk}/"),
        ("/api/actions/", "/api/actions/?page_size=500"),
    ]
    for path, url in checks:
        response = client.get(url)
        assert response.status_code == 200, url
        errors = list(validator_for(schema, path).iter_errors(response.json()))
        assert not errors, (url, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])
    response = client.get("/api/actions/", {"resolution": "abc"})
    assert response.status_code == 400
    assert not list(validator_for(schema, "/api/actions/", "400").iter_errors(response.json()))


# --- the schema and the docs over HTTP --------------------------------------------------------


def test_schema_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert set(yaml.safe_load(response.content)["paths"]) == PATHS
    as_json = client.get("/api/schema/", {"format": "json"})
    assert as_json.status_code == 200
    assert set(json.loads(as_json.content)["paths"]) == PATHS


class AssetParser(HTMLParser):
    """Every URL the page loads by itself: scripts, stylesheets, icons, images."""

    def __init__(self):
        super().__init__()
        self.assets = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.assets.append(attrs["href"])


def page_assets(html):
    parser = AssetParser()
    parser.feed(html)
    return parser.assets


def assert_served_locally(html):
    for host in CDN_HOSTS:
        assert host not in html
    assets = page_assets(html)
    assert assets
    for url in assets:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/").split("?")[0]), f"{url} is not a static file here"


def test_docs_page_works_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert_served_locally(html)
    assets = page_assets(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    assert any(url.endswith("swagger-ui.css") for url in assets)
    assert any("favicon" in url for url in assets)
    assert '"/api/schema/"' in html
    assert '"validatorUrl": null' in unescape(
        html
    )  # the settings travel HTML-escaped in data- attributes  # no badge fetched from validator.swagger.io


@pytest.mark.django_db
def test_browsable_api_loads_nothing_from_another_host(client, starter_dataset):
    for url in ("/api/", LIST_URL, STATES_URL):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert_served_locally(response.content.decode())
