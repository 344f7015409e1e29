"""`makemessages` for FormTrack's catalogs (README "Translations"): it also extracts the engine's
N_ marks (tracking/engine/i18n.py), and writes catalogs that only change when messages do (files
named without line numbers, lines unwrapped), leaving out vendored scripts and what uploads and
collectstatic write.

    python manage.py makemessages -a     # then translate what is new in locale/*/django.po
"""

from django.core.management.commands import makemessages

SKIPPED = ["static/vendor", "staticfiles", "media", "node_modules"]


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options["ignore_patterns"], *SKIPPED]
        options["add_location"] = options["add_location"] or "file"
        options["no_obsolete"] = True
        options["no_wrap"] = True
        super().handle(*args, **options)
