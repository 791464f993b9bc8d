from __future__ import annotations

from django.apps import AppConfig


class SyncadminConfig(AppConfig):
    name = "syncadmin"
    verbose_name = "syncadmin"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from connectors.http import add_api_call_observer

        from .metrics import api_call_observed, flush_api_calls

        # The connectors report every vendor API call to a plain callable (connectors/http.py
        # knows nothing of Django or Prometheus); web requests add their counts when they end.
        add_api_call_observer(api_call_observed)
        request_finished.connect(flush_api_calls, dispatch_uid="syncadmin-metrics-flush")
