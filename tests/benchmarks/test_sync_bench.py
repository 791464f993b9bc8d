"""`manage.py bench` from the command line, as the README runs it: every scenario, every field.

A smoke test at N = 200 with rate limits off; the figures' targets are judged by the runs
recorded in docs/benchmarks.md, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("name", "records", "ac_calls", "dv_calls", "wall_s", "cpu_s", "peak_rss_mb")
SCENARIOS = ["initial_push", "initial_pull", "incremental", "noop"]

pytestmark = [pytest.mark.integration, pytest.mark.celery]


def test_it_measures_every_scenario_on_a_real_worker_and_prints_every_field():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "syncadmin.settings.local"}
    env.pop("CELERY_TASK_DEFAULT_QUEUE", None)
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench",
            "--records",
            "200",
            "--rate-limits",
            "off",
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    figures = json.loads(done.stdout)

    assert list(figures) == ["scenarios"]
    assert [s["name"] for s in figures["scenarios"]] == SCENARIOS
    for scenario in figures["scenarios"]:
        for name in FIELDS:
            assert isinstance(scenario[name], (int, float, str)), (scenario["name"], name)
        assert "floor_ratio" in scenario and scenario["floor_ratio"] is None  # limits off
        assert scenario["status"] == "succeeded", scenario["message"]
        assert scenario["records"] == 200
        assert scenario["ac_calls"] > 0 and scenario["dv_calls"] > 0
        assert scenario["wall_s"] > 0 and scenario["cpu_s"] > 0 and scenario["peak_rss_mb"] > 50
    by_name = {s["name"]: s for s in figures["scenarios"]}
    assert by_name["incremental"]["changes"] == 200  # 100 on each side
    assert by_name["initial_push"]["counts"]["contact"]["push"]["created"] == 200
    assert by_name["initial_pull"]["counts"]["contact"]["pull"]["created"] == 200


def test_it_refuses_an_unknown_scenario():
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--scenario", "initial_push,everything"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "syncadmin.settings.local"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Unknown scenario everything" in done.stderr
