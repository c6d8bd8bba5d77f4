from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("resolutions/", views.ResolutionList.as_view(), name="resolutions"),
    path("resolutions/<int:pk>/", views.ResolutionDetail.as_view(), name="resolution"),
    path("jurisdictions/", views.JurisdictionList.as_view(), name="jurisdictions"),
    path("states/", views.StateList.as_view(), name="states"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
