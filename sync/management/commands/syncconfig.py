"""Configuration as code: `syncconfig export` and `syncconfig import FILE [--create] [--dry-run]`
(the document is described in `sync.config_files`)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from sync.config_files import (
    ConfigFileError,
    configuration_dumps,
    configuration_export,
    configuration_import,
    configuration_loads,
)


class Command(BaseCommand):
    help = "Export or import an integration's data configuration and sync settings (no secrets)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="write the configuration as YAML or JSON")
        export.add_argument("--integration", help="integration name (default: the only one)")
        export.add_argument(
            "--format",
            choices=["yaml", "json"],
            help="default: from the output file's extension, else yaml",
        )
        export.add_argument("--output", "-o", help="file to write (default: standard output)")
        load = actions.add_parser("import", help="validate a file completely, then apply it")
        load.add_argument("file")
        load.add_argument(
            "--integration", help="apply to this integration instead of the one named in the file"
        )
        load.add_argument(
            "--create",
            action="store_true",
            help="create the integration if no integration has its name",
        )
        load.add_argument("--dry-run", action="store_true", help="only validate")

    def handle(self, *args, action: str, **options):
        if action == "export":
            self._export(options)
        else:
            self._import(options)

    def _export(self, options) -> None:
        integration = self._integration(options.get("integration"))
        output = options.get("output")
        fmt = options.get("format") or ("json" if output and output.endswith(".json") else "yaml")
        text = configuration_dumps(configuration_export(integration=integration), fmt=fmt)
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}") from error
            self.stdout.write(f"Wrote the configuration of {integration.name} to {output}.")
        else:
            self.stdout.write(text, ending="")

    def _import(self, options) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"Cannot read {path}: it is not UTF-8 text.") from error
        try:
            plan = configuration_import(
                document=configuration_loads(text),
                integration_name=options.get("integration"),
                create=options["create"],
                dry_run=options["dry_run"],
            )
        except ConfigFileError as error:
            lines = [
                f"{path} was not imported; nothing changed. {len(error.problems)} problem(s):",
                *(f"  {problem}" for problem in error.problems),
            ]
            raise CommandError("\n".join(lines)) from error
        name = plan.integration_name
        if options["dry_run"]:
            self.stdout.write(f"{path} is valid; nothing was changed (dry run).")
        else:
            self.stdout.write(f"Imported {path} into {name}.")

    def _integration(self, name: str | None) -> Integration:
        if name:
            integration = Integration.objects.filter(name=name).first()
            if integration is None:
                raise CommandError(f"No integration is named {name!r} ({self._existing()}).")
            return integration
        integrations = list(Integration.objects.all()[:2])
        if len(integrations) != 1:
            raise CommandError(f"Name the integration with --integration ({self._existing()}).")
        return integrations[0]

    def _existing(self) -> str:
        names = list(Integration.objects.order_by("name").values_list("name", flat=True))
        return f"existing: {', '.join(names)}" if names else "there is none yet"
