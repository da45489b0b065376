"""House rules enforced by tools, not by hope."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_core_never_imports_qt_import_linter():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter not installed (pip install -e '.[dev]')")
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_importing_every_core_module_loads_no_qt():
    _assert_not_loaded(
        "import pkgutil, importlib, behavior\n"
        "for m in pkgutil.walk_packages(behavior.__path__, 'behavior.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "import behavior.cli; behavior.cli.build_parser()\n",
        {"PyQt5", "PyQt6", "PySide2", "PySide6", "qtpy"})


def _assert_not_loaded(code: str, packages: set[str]) -> None:
    """Run ``code`` in a fresh interpreter; none of ``packages`` may be imported."""
    check = (f"import sys\n{code}\n"
             f"found = sorted({{m.split('.')[0] for m in sys.modules}} & {packages!r})\n"
             "print(found); sys.exit(1 if found else 0)\n")
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_print_in_library_code():
    offenders = []
    for path in (ROOT / "behavior").rglob("*.py"):
        if path.name in ("cli.py", "commandline.py", "commands.py", "__main__.py"):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("print("):
                offenders.append(f"{path.relative_to(ROOT)}:{i}")
    assert not offenders, offenders


def test_the_command_line_starts_without_the_numeric_stack():
    # every `behavior ...` builds the whole parser; it must not wait for NumPy,
    # pandas, OpenCV or PyAV (and `fst score --jobs N` starts its workers before
    # importing them, so the imports overlap)
    _assert_not_loaded("import behavior.cli; behavior.cli.build_parser()",
                       {"numpy", "pandas", "cv2", "av", "scipy", "matplotlib", "statsmodels"})


def test_the_public_fst_api_imports_in_a_fresh_interpreter():
    run = subprocess.run([sys.executable, "-c",
                          "import behavior.fst as f; f.prepare, f.track, f.score_batch"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # importing the package alone loads nothing heavy: the command line stays quick
    _assert_not_loaded("import behavior.fst", {"numpy", "cv2", "av", "pandas"})
