"""Helpers for the end-to-end tests: run the countysim binary, make temp dirs."""
import os
import subprocess
import tempfile

COUNTYSIM = os.environ.get("COUNTYSIM", "countysim")
SOURCE_DIR = os.environ.get("COUNTYSIM_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# A copy of ../shared/spec/example.yaml, so the tests do not depend on shared/.
EXAMPLE = os.path.join(SOURCE_DIR, "tests", "data", "example.yaml")
DEFAULT_SCENARIO = os.path.join(SOURCE_DIR, "scenarios", "taojiang-2022.yaml")


def run(*args, check=None, **kw):
    """Runs countysim with args; returns CompletedProcess (text)."""
    p = subprocess.run([COUNTYSIM, *map(str, args)], capture_output=True, text=True, **kw)
    if check is not None and p.returncode != check:
        raise AssertionError(f"exit {p.returncode} != {check}: {args}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def tmpdir():
    return tempfile.mkdtemp(prefix="countysim-e2e-")
