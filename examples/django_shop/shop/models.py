from django.db import models


class Order(models.Model):
    item = models.CharField(max_length=100)
    email = models.EmailField()
    confirmation_job = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class DailyReport(models.Model):
    made_at = models.DateTimeField(auto_now_add=True)
    orders = models.IntegerField()
