"""The Django project: settings, URL configuration, WSGI entry point."""
