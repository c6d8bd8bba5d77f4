"""Request-level security helpers: the client's address, and the Permissions-Policy header."""

import ipaddress

from django.conf import settings
from django.shortcuts import render


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.policy)
        return response


def client_ip(request):
    """The visitor's address, for the `/submit/` rate limit and the admin sign-in lockout.

    REMOTE_ADDR, unless `CLIENT_IP_HEADER` names the header in which the reverse proxy
    passes the real address on (DJANGO_CLIENT_IP_HEADER, e.g. X-Real-IP): behind a
    proxy REMOTE_ADDR is the proxy's own, which every visitor would share. Only a
    header the proxy itself sets may be named: a client can send any header. A
    missing or malformed value (a request that reached the server without the
    proxy) falls back to REMOTE_ADDR.
    """
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "").strip()
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lockout page (429), saying when to try again: every 429 carries Retry-After."""
    cool_off = settings.AXES_COOLOFF_TIME
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
