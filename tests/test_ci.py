"""The test harness itself: under CI=true a missing requirement fails the run; .ci/run runs the README's tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A throwaway test module that uses the real tests/conftest.py helpers (loaded by path, so the
# subprocess sees exactly the helpers this suite uses) on requirements that are surely missing.
PROBE = '''
import importlib.util

spec = importlib.util.spec_from_file_location("kit_conftest", {conftest!r})
kit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kit)


def test_needs_missing_shared_data():
    kit.shared_path("no-such-file-for-the-ci-switch-test.npy")


def test_needs_a_missing_module():
    kit.require_module("ctcdecode_kit_no_such_module_for_the_ci_switch_test")


def test_needs_nothing():
    pass
'''
MODULE_LEVEL_PROBE = PROBE + '\nMISSING = kit.require_module("ctcdecode_kit_no_such_module_for_the_ci_switch_test")\n'


def _run_pytest(tmp_path: Path, source: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(source.format(conftest=str(REPO / "tests" / "conftest.py")))
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "test_probe.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_shared_file_or_module_fails_the_run(tmp_path, ci):
    result = _run_pytest(tmp_path, PROBE, ci)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert re.search(r"\b2 failed, 1 passed\b", output), output
    assert "no-such-file-for-the-ci-switch-test.npy" in output and "../shared/data" in output
    assert "ctcdecode_kit_no_such_module_for_the_ci_switch_test" in output
    assert "CI=true" in output


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_a_missing_shared_file_or_module_skips_with_the_reason(tmp_path, ci):
    result = _run_pytest(tmp_path, PROBE, ci)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b1 passed, 2 skipped\b", output), output
    assert "no-such-file-for-the-ci-switch-test.npy" in output
    assert "ctcdecode_kit_no_such_module_for_the_ci_switch_test" in output


def test_under_ci_a_module_level_require_module_fails_collection(tmp_path):
    result = _run_pytest(tmp_path, MODULE_LEVEL_PROBE, "true")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output  # pytest: "Interrupted: 1 error during collection"
    assert "error" in output.lower() and "ctcdecode_kit_no_such_module_for_the_ci_switch_test" in output


def test_outside_ci_a_module_level_require_module_skips_the_module(tmp_path):
    result = _run_pytest(tmp_path, MODULE_LEVEL_PROBE, None)
    output = result.stdout + result.stderr
    assert result.returncode == 5, output  # the whole module skipped: no test collected
    assert re.search(r"\b1 skipped\b", output) and "passed" not in output, output


def test_ci_run_runs_the_readme_test_command_first():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"\*\*Tests\*\*.*?```bash\n(.*?)\n```", readme, flags=re.S)
    assert match, "README.md has no **Tests** bash block"
    command = match.group(1).strip()
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert command in lines, f".ci/run does not run the README's test command {command!r}"
    first_test = next(line for line in commands if re.match(r"(bash |python3? |\S*/bin/\w+ )", line))
    assert first_test == command, f".ci/run runs {first_test!r} before the README's test command"


def test_the_readme_test_command_runs_the_core_without_extras_and_then_everything():
    script = (REPO / ".ci" / "test").read_text(encoding="utf-8")
    core, full = script.index('pytest -q -m "not extra"'), script.index(".venv/bin/python -m pytest -q\n")
    assert core < full
    assert "pip install -q -e '.[test]'" in script and "pip install -q -e '.[all,test]'" in script
    for module in ("pyctcdecode", "kenlm", "ray", "onnxruntime"):
        assert f'"{module}"' in script, f".ci/test does not check that {module} is absent from the core"


def test_every_test_needing_an_extra_is_marked_and_collectable_without_it():
    """A test module must not import an extra at import time (the core run collects every file)."""
    offenders = []
    for path in (REPO / "tests").rglob("test_*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"(import (pyctcdecode|kenlm|ray|onnxruntime)\b|from (pyctcdecode|kenlm|ray|onnxruntime)[ .])", line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line}")
            if re.match(r"\w+ = require_module\(\"(pyctcdecode|kenlm|ray|onnxruntime)", line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert not offenders, "module-level imports of an extra (import inside the test instead):\n" + "\n".join(offenders)
