"""The Kibana saved objects stay importable and agree with the index template's mapping."""

import json
from pathlib import Path

from bananas.logs import es_setup

NDJSON = Path(__file__).parents[3] / "config" / "kibana" / "bananas-logs.ndjson"
AGGREGATABLE = {"keyword", "float", "integer", "date", "long"}


def objects() -> list[dict]:
    lines = [json.loads(line) for line in NDJSON.read_text().splitlines()]
    return [o for o in lines if "type" in o]


def test_every_reference_points_at_an_object_in_the_file():
    known = {(o["type"], o["id"]) for o in objects()}
    for obj in objects():
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in known, ref


def test_dashboard_panels_match_its_references():
    (dashboard,) = [o for o in objects() if o["type"] == "dashboard"]
    names = {p["panelRefName"] for p in json.loads(dashboard["attributes"]["panelsJSON"])}
    assert names == {r["name"] for r in dashboard["references"]} and len(names) == 4


def test_aggregated_fields_exist_in_the_mapping_with_an_aggregatable_type():
    props = es_setup.mappings()["properties"]
    for obj in objects():
        if obj["type"] != "visualization":
            continue
        for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
            field = agg["params"].get("field")
            if field:
                assert props[field]["type"] in AGGREGATABLE, (obj["id"], field)
