"""Placing an order submits its confirmation job on commit; the id is stored on the row."""

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bananas.contrib.django import submit_on_commit

from .jobs import send_confirmation
from .models import Order
from .tasks import order_total


@csrf_exempt  # an API endpoint for the example; a real form keeps CSRF protection
@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body or b"{}")
    with transaction.atomic():
        order = Order.objects.create(item=data["item"], email=data["email"])
        # Runs only if this transaction commits; the id is known now and saved with the order.
        order.confirmation_job = submit_on_commit(send_confirmation, {"order": order.pk})
        order.save(update_fields=["confirmation_job"])
    total = order_total.enqueue(data.get("prices", []))
    return JsonResponse({"order": order.pk, "job": order.confirmation_job, "total_task": total.id}, status=201)


@require_GET
def order_status(request: HttpRequest, pk: int) -> JsonResponse:
    order = get_object_or_404(Order, pk=pk)
    return JsonResponse({"order": order.pk, "confirmed": order.confirmed_at is not None,
                         "job": order.confirmation_job})


@require_GET
def task_result(request: HttpRequest, result_id: str) -> JsonResponse:
    result = order_total.get_result(result_id)
    value = result.return_value if result.is_finished and result.status == "SUCCESSFUL" else None
    return JsonResponse({"status": str(result.status), "value": value, "attempts": result.attempts})
