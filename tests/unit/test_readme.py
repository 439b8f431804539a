import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_config_table_is_generated_from_the_code():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from update_readme import render
    finally:
        sys.path.pop(0)
    assert render(README) == README, "run `make readme` to regenerate the configuration table"


def test_readme_shows_the_two_set_up_commands():
    assert "make run" in README and "make test" in README
