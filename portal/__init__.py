"""The Django project of the Mail Settings Portal: settings, URLs, Celery and the web views."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
