from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=100)
    job_id = models.CharField(max_length=64, blank=True)
    shipped = models.BooleanField(default=False)


class Event(models.Model):
    """What handlers and signal receivers record, for the tests to read back."""

    kind = models.CharField(max_length=40)
    ref = models.CharField(max_length=64)
    detail = models.TextField(blank=True)
