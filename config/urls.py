from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from recognition.health import healthz

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/", include("recognition.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("recognition.urls")),
]

handler500 = "recognition.health.server_error"
