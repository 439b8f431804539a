"""A handler module as a user writes it: decorating registers nothing at import."""

from bananas.cron.sources import periodic


@periodic("0 9 * * 1", tz="Europe/Berlin", payload={"report": "weekly"}, priority="high")
def weekly_report(payload, ctx):
    return payload


@periodic("every 30s", name="heartbeat-a")
@periodic("every 1h30m", name="heartbeat-b", missed="run_once")
def heartbeat(payload, ctx):
    return None


def not_periodic(payload, ctx):
    return None
