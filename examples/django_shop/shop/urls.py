from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.place_order),
    path("orders/<int:pk>/", views.order_status),
    path("totals/<str:result_id>/", views.task_result),
]
