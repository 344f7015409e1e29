"""Queue again the uploads and webhook deliveries (upload callbacks, session.completed) a broker
may have lost: after Redis restarted without persistence, or from cron every few minutes. Safe to
run at any time: a job queued twice is analysed once, a callback queued twice is attempted once."""

import datetime

from django.core.management.base import BaseCommand

from tracking import uploads, webhooks


class Command(BaseCommand):
    help = (
        "Queue again uploads stuck in `queued` (or abandoned in `processing`), and webhook "
        "deliveries overdue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queued-for",
            type=int,
            default=10,
            metavar="MINUTES",
            help="only uploads queued for longer than this (default 10)",
        )

    def handle(self, *args, queued_for, **options):
        stalled = uploads.uploads_requeue_stalled(queued_for=datetime.timedelta(minutes=queued_for))
        self.stdout.write(f"{len(stalled)} upload(s) queued again")
        overdue = webhooks.callbacks_requeue_overdue(
            overdue_for=datetime.timedelta(minutes=queued_for)
        )
        self.stdout.write(f"{len(overdue)} callback delivery(ies) queued again")
