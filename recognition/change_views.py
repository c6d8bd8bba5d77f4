"""/changes/: what changed in the published data, newest first (the work is in recognition/changes.py)."""

from django.shortcuts import render
from django.urls import reverse

from . import changes
from .pagecache import public_page


def _feed_path(states):
    query = "&".join(f"state={code}" for code in states)
    path = reverse("recognition:changes_feed")
    return f"{path}?{query}" if query else path


@public_page(params=("state", "page"))
def change_log(request):
    template = "recognition/changes.html"
    context = {"state_choices": changes.STATE_CHOICES, "states": [], "page": None, "error": ""}
    try:
        states, number = changes.read_query(request.GET)
    except changes.BadQuery as error:
        context["error"] = str(error)
        return render(request, template, context, status=400)
    page = changes.page(number, states)
    context.update(
        states=states,
        state_names=", ".join(changes.STATE_NAMES[code] for code in states),
        page=page,
        feed_path=_feed_path(states),
    )
    if number > 1 and not page.changes:
        context["error"] = f"There is no page {number}: these changes fill fewer pages."
        return render(request, template, context, status=404)
    return render(request, template, context)
