from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0006_live_calls"),
    ]

    operations = [
        migrations.RenameField(model_name="livecall", old_name="page_session", new_name="page_visit"),
        migrations.RenameField(model_name="trackinglink", old_name="secret_hash", new_name="digest"),
    ]
