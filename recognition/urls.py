from django.urls import path, register_converter

from . import card_views, change_views, chart_views, embeds, feeds, views
from .converters import StateCodeConverter
from .pagecache import public_page

register_converter(StateCodeConverter, "usps")

app_name = "recognition"

urlpatterns = [
    path("", views.home, name="home"),
    path("united-states/", views.nation, name="nation"),
    path("about/", views.about, name="about"),
    path("embed/map/", embeds.embed_national_map, name="embed_map"),
    path("embed/states/<usps:usps>/", embeds.embed_state_map, name="embed_state"),
    # Charts to embed and to download (issue 18)
    path("embed/timeline/", chart_views.embed_timeline, name="embed_timeline"),
    path("timeline.png", chart_views.timeline_png, name="timeline_png"),
    path("map.png", chart_views.national_map_png, name="map_png"),
    path("states/<usps:usps>/map.png", chart_views.state_map_png, name="state_map_png"),
    path("states/<usps:usps>/", views.state_detail, name="state"),
    path("states/<usps:usps>/feed/", feeds.StateFeed(), name="state_feed"),
    path("states/<usps:usps>/fact-sheet/", views.state_fact_sheet, name="state_fact_sheet"),
    path("states/<usps:usps>/<slug:slug>/fact-sheet/", views.fact_sheet, name="fact_sheet"),
    path("states/<usps:usps>/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction"),
    path("resolutions/<int:pk>/", views.resolution_detail, name="resolution"),
    path("resolutions/<int:pk>/preview/", views.resolution_preview, name="resolution_preview"),
    path("resolutions/", views.resolution_list, name="resolution_list"),
    path("resolutions.csv", views.resolution_csv, name="resolution_csv"),
    path("actions.csv", views.action_csv, name="action_csv"),
    path("data/", views.data, name="data"),
    path("feeds/resolutions/", feeds.ResolutionFeed(), name="feed"),
    # What changed in the published data (issue 18)
    path("changes/", change_views.change_log, name="changes"),
    path("changes/feed/", public_page(feeds.ChangeFeed(), params=("state",)), name="changes_feed"),
    path("submit/", views.submit, name="submit"),
    path("submit/thanks/", views.submit_thanks, name="submit_thanks"),
    # Find your county or city (issue 16)
    path("places/", views.place_search, name="places"),
    path("places/suggest/", views.place_suggestions, name="place_suggestions"),
    # --- Follow by email (recognition/alerts.py) ---
    path("follow/", views.follow, name="follow"),
    path("follow/sent/", views.follow_sent, name="follow_sent"),
    path("follow/confirm/<str:token>/", views.follow_confirm, name="follow_confirm"),
    path("follow/manage/<str:token>/", views.follow_manage, name="follow_manage"),
    path("follow/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Share cards (issue 16): 1200x630 PNGs for link previews.
    path("card.png", card_views.national_card, name="home_card"),
    path("states/<usps:usps>/card.png", card_views.state_card, name="state_card"),
    path("states/<usps:usps>/<slug:slug>/card.png", card_views.jurisdiction_card, name="jurisdiction_card"),
]

# --- Model resolutions (issue 16) ---------------------------------------------------------------------
# First in the list: /states/al/model-resolution/ would otherwise be read as a place whose slug is
# "model-resolution".
from . import model_resolutions  # noqa: E402

urlpatterns = [
    path(
        "states/<usps:usps>/model-resolution/",
        model_resolutions.state_model_resolution,
        name="state_model_resolution",
    ),
    path(
        "states/<usps:usps>/model-resolution.docx",
        model_resolutions.state_model_resolution_docx,
        name="state_model_resolution_docx",
    ),
    path(
        "states/<usps:usps>/<slug:slug>/model-resolution/",
        model_resolutions.model_resolution,
        name="model_resolution",
    ),
    path(
        "states/<usps:usps>/<slug:slug>/model-resolution.docx",
        model_resolutions.model_resolution_docx,
        name="model_resolution_docx",
    ),
    *urlpatterns,
]
# --- end of model resolutions ------------------------------------------------------------------------
