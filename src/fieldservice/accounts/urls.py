from django.urls import path

from fieldservice.accounts import views

app_name = "accounts"
urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("engineers/", views.engineer_list, name="engineer_list"),
    path("engineers/new/", views.engineer_create, name="engineer_create"),
    path("engineers/<int:pk>/", views.engineer_detail, name="engineer_detail"),
    path("engineers/<int:pk>/edit/", views.engineer_edit, name="engineer_edit"),
    path("engineers/<int:pk>/availability/", views.engineer_availability, name="engineer_availability"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
]
