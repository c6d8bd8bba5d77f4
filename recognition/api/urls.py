from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ..caching import public_page
from . import views

app_name = "api"

# Read-only answers built from public data: cached by data version, with ETags (recognition/caching.py).
urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("resolutions/", public_page(views.ResolutionList.as_view()), name="resolutions"),
    path("resolutions/<int:pk>/", public_page(views.ResolutionDetail.as_view()), name="resolution"),
    path("jurisdictions/", public_page(views.JurisdictionList.as_view()), name="jurisdictions"),
    path("states/", public_page(views.StateList.as_view()), name="states"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
