"""The admin tests use the organizations tests' login fixtures."""
from tests.organizations.conftest import login, logout  # noqa: F401
