from django.core.exceptions import MiddlewareNotUsed
from django.urls import Resolver404, resolve

from labelhub import registrations


class RegistrationsMiddleware:
    """Runs the apps' deferred registrations (``labelhub.registrations``) when a request
    handler is built (the WSGI app, Django's test client), before its first request,
    then leaves the chain: no cost per request."""

    def __init__(self, get_response):
        registrations.load()
        raise MiddlewareNotUsed


class ApiTrailingSlashMiddleware:
    """Let every ``/api/`` path answer with and without its trailing slash.

    Label Studio's docs, its SDK and users' scripts use both forms, POST included, so
    a redirect (which drops the body of a POST) will not do: the path is rewritten in
    place before URL resolution.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            try:
                resolve(path)
            except Resolver404:
                try:
                    resolve(path + "/")
                except Resolver404:
                    pass
                else:
                    request.path_info = path + "/"
                    request.path = request.path + "/"
        return self.get_response(request)
