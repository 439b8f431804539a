from django.contrib import admin
from django.urls import include, path

from bananas.contrib.django.mount import dashboard_urls, mount


def demo_app(environ, start_response):
    """A tiny WSGI app standing in for the dashboard: echoes where it was mounted."""
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}|{environ['REQUEST_METHOD']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Mounted", "yes")])
    return [body]


urlpatterns: list = [path("admin/", admin.site.urls), path("ops/bananas/", include(mount(demo_app))),
                     path("ops/dashboard/", include(dashboard_urls()))]
