"""The shop's Bananas handlers: found because this is the app's jobs.py."""

from django.utils import timezone

import bananas

from .models import DailyReport, Order


@bananas.job("shop.send_confirmation", max_retries=5, timeout=30)
def send_confirmation(payload, ctx):
    """Idempotent: a second delivery of the same job finds the order confirmed and stops."""
    order = Order.objects.get(pk=payload["order"])
    if order.confirmed_at is None:
        # a real shop sends the e-mail here (django.core.mail.send_mail)
        order.confirmed_at = timezone.now()
        order.save(update_fields=["confirmed_at"])
        ctx.logger.info("confirmed order %s to %s", order.pk, order.email)
    return {"order": order.pk, "confirmed_at": order.confirmed_at.isoformat()}


@bananas.periodic("every 2s", name="shop.report")
@bananas.job("shop.daily_report")
def daily_report(payload, ctx):
    """A periodic job (every 2 s to make the example lively; a real one says "0 6 * * *")."""
    report = DailyReport.objects.create(orders=Order.objects.count())
    return {"report": report.pk, "orders": report.orders}
