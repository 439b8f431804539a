import contextvars
import logging
import re

from bananas.logs import bind_worker, component_scope, job_logger, job_scope
from bananas.logs.fields import component_for_logger, log_source_for


def test_json_records_carry_worker_job_and_extra_fields(console):
    console.start()
    log = logging.getLogger("bananas.server.jobs.pool")
    with job_scope("job-7", job_name="send_email", priority="high"):
        log.info("job %s done", "job-7", extra={"duration_ms": 12.5, "status": "succeeded"})
    log.warning("idle", extra={"redis_operation": "BLMOVE"})
    done, idle = console.records()
    assert done["msg"] == "job job-7 done"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", done["time"])
    assert (done["level"], done["component"], done["log_source"]) == ("INFO", "worker", "bananas_internal")
    assert (done["worker_id"], done["worker_type"]) == ("high-1", "high")
    assert (done["job_id"], done["job_name"], done["priority"]) == ("job-7", "send_email", "high")
    assert (done["duration_ms"], done["status"]) == (12.5, "succeeded")
    assert "job_id" not in idle, "job fields end with the scope"
    assert idle["redis_operation"] == "BLMOVE"


def test_log_source_separates_job_output_from_internal_lines(console):
    console.start()
    with job_scope("j1", job_name="resize"):
        job_logger("resize").info("resizing")
        logging.getLogger("bananas.queue.redis").info("acked")
        logging.getLogger("PIL.Image").info("library line inside the job")
    logging.getLogger("urllib3").warning("library line outside any job")
    sources = {r["msg"]: r["log_source"] for r in console.records()}
    assert sources == {
        "resizing": "bananas_job",
        "acked": "bananas_internal",
        "library line inside the job": "bananas_job",
        "library line outside any job": "bananas_internal",
    }


def test_bound_worker_and_component_win_over_process_defaults(console):
    console.start()

    def pool_greenlet() -> None:
        bind_worker("low-3", "low")
        with component_scope("scheduler"):
            logging.getLogger("bananas.x").info("tick")
        logging.getLogger("bananas.queue").info("moved")

    contextvars.copy_context().run(pool_greenlet)  # keep the binding out of other tests
    tick, moved = console.records()
    assert (tick["worker_id"], tick["worker_type"], tick["component"]) == ("low-3", "low", "scheduler")
    assert moved["component"] == "queue"


def test_exception_fills_error_and_traceback(console):
    console.start()
    try:
        raise ValueError("bad payload")
    except ValueError:
        logging.getLogger("bananas.server.jobs.pool").exception("handler failed")
    (record,) = console.records()
    assert record["error"] == "ValueError: bad payload"
    assert "Traceback" in record["traceback"] and record["level"] == "ERROR"


def test_level_filters_the_console(console):
    console.start({"LOG_LEVEL": "WARNING"})
    logging.getLogger("bananas.a").info("hidden")
    logging.getLogger("bananas.a").error("shown")
    assert [r["msg"] for r in console.records()] == ["shown"]


def test_text_format_colours_the_level_name_only(console):
    console.start({"LOG_FORMAT": "text", "LOG_COLOR": "true"})
    logging.getLogger("bananas.a").error("plain \x1b message", extra={"job_id": "j"})
    line = console.text()
    assert "\x1b[31mERROR   \x1b[0m" in line
    message_part = line.split("bananas.a: ", 1)[1]
    assert message_part.startswith("plain \x1b message ") and "job_id=j" in message_part
    assert "\x1b[" not in message_part


def test_text_format_has_no_colour_when_off(console):
    console.start({"LOG_FORMAT": "text"})
    logging.getLogger("bananas.a").error("x")
    assert "\x1b" not in console.text()


def test_unserialisable_extra_is_rendered_as_text(console):
    console.start()
    logging.getLogger("bananas.a").info("x", extra={"thing": object()})
    (record,) = console.records()
    assert record["thing"].startswith("<object object")


def test_component_and_source_rules():
    assert component_for_logger("bananas.server.timed.scheduler") == "scheduler"
    assert component_for_logger("bananas.server.jobs.pool") == "worker"
    assert component_for_logger("redis.connection") == "redis"
    assert component_for_logger("bananas.client") == "api"
    assert component_for_logger("somewhere") is None
    assert log_source_for("bananas.job.x", in_job=False) == "bananas_job"
    assert log_source_for("bananas.server", in_job=True) == "bananas_internal"
