from django.urls import path

from fieldservice.accounts import views

app_name = "accounts"
urlpatterns = [
    path("me/", views.me, name="me"),
    path("engineers/", views.engineer_list, name="engineer_list"),
    path("teams/", views.team_list, name="team_list"),
    path("users/", views.user_list, name="user_list"),
]
