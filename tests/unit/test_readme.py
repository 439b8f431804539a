from pathlib import Path

from bananas.config import Config
from bananas.settings import env_name, leaves

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_documents_every_setting_and_its_variable():
    for key, field, _ in leaves(Config):
        assert f"`{key}`" in README, key
        assert f"`{env_name(key, field)}`" in README, key


def test_readme_shows_the_two_set_up_commands():
    assert "make run" in README and "make test" in README
