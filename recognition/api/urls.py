from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .. import past
from ..filters import ActionFilter, ResolutionFilter
from ..pagecache import public_page
from . import Pagination, views

app_name = "api"

# Read-only answers built from public data: cached by data version, with ETags (recognition/pagecache.py).
# Each declares the query parameters it reads; `format` and Accept are added for every API view.
PAGINATION = (Pagination.page_query_param, Pagination.page_size_query_param)
urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path(
        "resolutions/",
        public_page(views.ResolutionList.as_view(), params=(*ResolutionFilter.base_filters, *PAGINATION)),
        name="resolutions",
    ),
    path("resolutions/<int:pk>/", public_page(views.ResolutionDetail.as_view()), name="resolution"),
    path(
        "actions/",
        public_page(views.ActionList.as_view(), params=(*ActionFilter.base_filters, *PAGINATION)),
        name="actions",
    ),
    path(
        "jurisdictions/",
        public_page(
            views.JurisdictionList.as_view(), params=(*views.JurisdictionFilter.base_filters, *PAGINATION)
        ),
        name="jurisdictions",
    ),
    path("states/", public_page(views.StateList.as_view(), params=(past.PARAMETER,)), name="states"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
