from fieldservice.maintenance.views import campaigns, care, inspections, plans

app_name = "maintenance"
urlpatterns = [*plans.urlpatterns, *inspections.urlpatterns, *campaigns.urlpatterns, *care.urlpatterns]
