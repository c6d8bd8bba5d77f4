"""The read-only JSON API at /api/: published resolutions, jurisdictions and state statuses.

Same filters as the list page (`recognition.filters.ResolutionFilter`), an OpenAPI
schema at /api/schema/ and Swagger UI at /api/docs/ served from our own static files.

The pagination class lives here, not in `views`, because REST_FRAMEWORK names it
(DEFAULT_PAGINATION_CLASS) and DRF imports it while `rest_framework.generics`
loads: from `views`, which imports `generics`, that import would be circular.
"""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=2&page_size=100`: 50 a page unless asked, at most 500. A page past the end is a 404."""

    page_size_query_param = "page_size"
    max_page_size = 500
