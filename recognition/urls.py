from django.urls import path

from . import views

app_name = "recognition"

urlpatterns = [
    path("", views.home, name="home"),
    path("united-states/", views.nation, name="nation"),
    path("about/", views.about, name="about"),
    path("states/<str:usps>/", views.state_detail, name="state"),
    path("states/<str:usps>/<slug:slug>/", views.jurisdiction_detail, name="jurisdiction"),
    path("resolutions/<int:pk>/", views.resolution_detail, name="resolution"),
]
