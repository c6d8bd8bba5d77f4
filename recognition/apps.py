from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Dispatcher recognition"

    def ready(self):
        from .models import Action, Jurisdiction, LegislativeSession, Resolution, Source
        from .versioning import bump_data_version

        # Any change to what the public pages show makes every cached page stale.
        for model in (Jurisdiction, Resolution, Source, Action, LegislativeSession):
            post_save.connect(bump_data_version, sender=model, dispatch_uid=f"bump-on-save-{model.__name__}")
            post_delete.connect(
                bump_data_version, sender=model, dispatch_uid=f"bump-on-delete-{model.__name__}"
            )

        # Follow by email: a measure's first publication and a new action on a published one are news.
        from . import alerts

        post_save.connect(alerts.measure_saved, sender=Resolution, dispatch_uid="alerts-measure-saved")
        post_save.connect(alerts.action_saved, sender=Action, dispatch_uid="alerts-action-saved")

        # Warm after publish: the pages a change to public data made cold are made again by the worker.
        from . import warming

        for model in (Jurisdiction, Resolution, Source, Action, LegislativeSession):
            pre_save.connect(warming.row_saving, sender=model, dispatch_uid=f"warm-saving-{model.__name__}")
            post_save.connect(
                warming.row_changed, sender=model, dispatch_uid=f"warm-on-save-{model.__name__}"
            )
            post_delete.connect(
                warming.row_changed, sender=model, dispatch_uid=f"warm-on-delete-{model.__name__}"
            )
