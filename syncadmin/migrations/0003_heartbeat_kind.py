"""Heartbeats name their kind of process; the per-minute health task is no longer scheduled:
the worker and beat write their heartbeats themselves (syncadmin.heartbeat)."""

from __future__ import annotations

from django.db import migrations, models

OLD_TASK = "Worker heartbeat"


def unschedule_health_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=OLD_TASK, task="syncadmin.health_ping").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncadmin", "0002_worker_heartbeat_schedule"),
        ("django_celery_beat", "0018_improve_crontab_helptext"),
    ]

    operations = [
        migrations.AddField(
            model_name="workerheartbeat",
            name="kind",
            field=models.CharField(
                choices=[("worker", "Celery worker"), ("beat", "Celery beat")],
                default="worker",
                max_length=10,
            ),
        ),
        migrations.RunPython(unschedule_health_task, migrations.RunPython.noop),
    ]
