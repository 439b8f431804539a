"""A Django task (django.tasks API) that Bananas runs through the BananasBackend."""

from bananas.contrib.django.compat import tasks_module

task = tasks_module.task  # `from django.tasks import task` on Django 6


@task(priority=10)
def order_total(prices):
    return round(sum(prices), 2)
