"""Logging context and formats shared by every layer (imports no project app).

The engine, the Celery tasks and the connectors may all use `observability.logs.log_context`;
the shell (syncadmin) configures logging with `logging_config` and serves the metrics.
"""
