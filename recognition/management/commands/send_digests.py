"""Queue the weekly digests, and delete addresses unsubscribed for more than 30 days. Run weekly (cron or timer)."""

from django.core.management.base import BaseCommand

from recognition import alerts


class Command(BaseCommand):
    help = (
        "Queue the weekly email digests (sent by the task worker: manage.py db_worker), and delete "
        "addresses unsubscribed for more than 30 days."
    )

    def handle(self, *args, **options):
        forgotten = alerts.forget_addresses()
        result = alerts.send_weekly_digests.enqueue()
        self.stdout.write(
            f"Digests queued (task {result.id}: it queues one task per {alerts.SEND_BATCH} addresses, which "
            f"every running worker shares); {forgotten} unsubscribed address(es) deleted."
        )
