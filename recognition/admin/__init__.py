"""The staff admin: resolutions with their sources and actions, legislative sessions, jurisdictions, and the
moderation of public submissions.

Who may do what (see recognition/roles.py): editors enter and correct drafts; only publishers (and
superusers) publish, unpublish or change a published record, its sources, or a place it names, whatever
the door: a change form, a list action, the history's revert, or the CSV import. Every change is
recorded (django-simple-history). One module per model family; the forms are in `forms`.
"""

from django.contrib import admin

from . import followers, jurisdictions, legislative, resolutions, submissions  # noqa: F401 (they register the models)

admin.site.site_header = "Dispatcher Recognition Tracker: staff"
admin.site.site_title = "Tracker staff"
admin.site.index_title = "Records, places and public submissions"
