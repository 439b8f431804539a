"""Where schedules come from: the periodic decorator and the YAML cron list."""

import functools

import pytest
import yaml

from bananas.cron.rules import parse_schedule
from bananas.cron.sources import collect_schedules, periodic, schedules_from_yaml, unique_schedules
from bananas.errors import ConfigError
from tests.unit.periodic_samples import handlers


def test_decorator_only_attaches_metadata():
    def job(payload, ctx):
        return payload["n"] + 1

    marked = periodic("@daily")(job)
    assert marked is job
    assert marked({"n": 1}, None) == 2


def test_collect_from_a_module_builds_every_schedule():
    schedules = collect_schedules([handlers])
    assert [s.name for s in schedules] == [
        "heartbeat-a",
        "heartbeat-b",
        "tests.unit.periodic_samples.handlers.weekly_report",
    ]
    a, b, weekly = schedules
    assert (a.every_s, a.job, a.missed) == (30, "tests.unit.periodic_samples.handlers.heartbeat", "skip")
    assert (b.every_s, b.missed) == (5400, "run_once")
    assert (weekly.cron, weekly.tz, weekly.priority) == ("0 9 * * 1", "Europe/Berlin", "high")
    assert weekly.payload == {"report": "weekly"}


def test_a_function_reached_twice_counts_once():
    assert collect_schedules([handlers, handlers.heartbeat]) == collect_schedules([handlers])


def test_job_names_can_follow_the_registry():
    schedules = collect_schedules([handlers.weekly_report], job_name=lambda f: f.__name__)
    assert [(s.name, s.job) for s in schedules] == [("weekly_report", "weekly_report")]


def test_metadata_survives_functools_wraps():
    @functools.wraps(handlers.weekly_report)
    def wrapper(payload, ctx):
        return handlers.weekly_report(payload, ctx)

    assert collect_schedules([wrapper])[0].cron == "0 9 * * 1"


def test_two_unnamed_schedules_on_one_function_are_refused():
    @periodic("@daily")
    @periodic("@hourly")
    def twice(payload, ctx):
        return None

    with pytest.raises(ConfigError, match="defined twice"):
        collect_schedules([twice], job_name=lambda f: "twice")


def test_bad_decorator_arguments_fail_at_collection_naming_the_schedule():
    @periodic("every 30", name="broken")
    def job(payload, ctx):
        return None

    with pytest.raises(ConfigError, match=r"'broken'.*bad interval"):
        collect_schedules([job], job_name=lambda f: "job")
    with pytest.raises(ConfigError, match=r"'broken'.*job must be.*<locals>"):
        collect_schedules([job])


YAML = """
cron:
  - name: nightly-cleanup
    job: maintenance.cleanup
    cron: "30 2 * * *"
    tz: Europe/Berlin
    payload: {older_than_days: 30}
    queue: maintenance
    priority: low
    missed: run_once
  - name: ping
    job: monitor.ping
    every: 30s
"""


def test_yaml_list_builds_schedules():
    nightly, ping = sorted(schedules_from_yaml(yaml.safe_load(YAML)["cron"]), key=lambda s: s.name)
    assert nightly == parse_schedule(
        "nightly-cleanup",
        "maintenance.cleanup",
        cron="30 2 * * *",
        tz="Europe/Berlin",
        payload={"older_than_days": 30},
        queue="maintenance",
        priority="low",
        missed="run_once",
    )
    assert nightly.payload == {"older_than_days": 30}
    assert (ping.every_s, ping.queue, ping.priority, ping.missed) == (30, "default", "normal", "skip")


def test_yaml_without_cron_section_has_no_schedules():
    assert schedules_from_yaml(None) == ()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"name": "x"}, "must be a list"),
        (["x"], r"cron\[0\]: must be a mapping"),
        (
            [{"name": "x", "job": "j", "cron": "@daily", "timezone": "UTC"}],
            r"cron\[0\] \(x\): unknown key.*timezone",
        ),
        ([{"name": "x", "cron": "@daily"}], r"cron\[0\] \(x\): missing key.*job"),
        ([{"name": "x", "job": "j", "every": 30}], "'x'.*unit"),
        ([{"name": "x", "job": "j", "cron": "0 25 * * *"}], "'x'.*Bad hour"),
        ([{"name": "x", "job": "j", "cron": "@daily"}, {"name": "x", "job": "k", "every": "1m"}], "twice"),
    ],
)
def test_bad_yaml_entries_raise_config_error_naming_the_entry(entries, message):
    with pytest.raises(ConfigError, match=message):
        schedules_from_yaml(entries)


def test_yaml_and_decorated_schedules_join_with_unique_names():
    joined = unique_schedules(
        [*schedules_from_yaml(yaml.safe_load(YAML)["cron"]), *collect_schedules([handlers])]
    )
    assert len(joined) == 5
    with pytest.raises(ConfigError, match="'ping' is defined twice"):
        unique_schedules([*joined, parse_schedule("ping", "j", every="1m")])
