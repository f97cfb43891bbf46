from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The shell around the domain apps: home, navigation, error pages, import pages. It sits on
    top so that it may import every app and no app needs to import it."""

    name = "fieldservice.site"
    label = "site"
