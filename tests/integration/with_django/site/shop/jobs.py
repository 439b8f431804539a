"""Handlers of the test shop (found because this is the app's jobs.py)."""

import os

from django.db import connection

import bananas

from .models import Order

if os.environ.get("BANANAS_TEST_QUERY_AT_IMPORT"):
    # A connection opened in the master while handlers are imported: the workers must not share it.
    Order.objects.exists()


@bananas.job("shop.ship")
def ship(payload, ctx):
    order = Order.objects.get(pk=payload["order"])
    order.shipped = True
    order.save(update_fields=["shipped"])
    return {"order": order.pk, "item": order.item}


@bananas.job("shop.sleep")
def sleep_in_postgres(payload, ctx):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [payload.get("seconds", 0.2)])
    return connection.vendor


@bananas.job("shop.driver")
def driver(payload, ctx):
    connection.ensure_connection()
    return type(connection.connection).__module__.split(".")[0]


@bananas.job("shop.sleep_in_thread", executor="threads")
def sleep_in_thread(payload, ctx):
    """The same query in the threads executor: for drivers that cannot wait through gevent."""
    return sleep_in_postgres(payload, ctx)
