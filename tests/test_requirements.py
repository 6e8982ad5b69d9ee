"""Every dependency has a range (a lower and an upper bound), and the installed versions, the
ones the tests just ran on, are inside it."""

from importlib.metadata import version

import pytest
from packaging.requirements import Requirement

from tests.conftest import PROJECT_DIR


def _requirements() -> list[Requirement]:
    found = []
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-notebook.txt"):
        for line in (PROJECT_DIR / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                found.append(Requirement(line))
    return found


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_each_dependency_has_a_range_that_holds_the_tested_version(requirement):
    operators = {spec.operator for spec in requirement.specifier}
    assert ">=" in operators and "<" in operators, f"{requirement} needs a lower and upper bound"
    installed = version(requirement.name)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{requirement.name} {installed} is installed (and tested) but outside {requirement}")
