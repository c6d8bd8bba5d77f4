from django.urls import path

from . import embeds, views

app_name = "recognition"

urlpatterns = [
    path("", views.home, name="home"),
    path("united-states/", views.nation, name="nation"),
    path("about/", views.about, name="about"),
    path("embed/map/", embeds.embed_national_map, name="embed_map"),
    path("embed/states/<str:usps>/", embeds.embed_state_map, name="embed_state"),
    path("states/<str:usps>/", views.state_detail, name="state"),
    path("states/<str:usps>/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction"),
    path("resolutions/<int:pk>/", views.resolution_detail, name="resolution"),
]
