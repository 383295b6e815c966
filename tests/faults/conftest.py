import pytest

from .installation import PrivateCluster, installation_env, manage


@pytest.fixture(scope="session")
def private_cluster():
    cluster = PrivateCluster()
    yield cluster
    cluster.remove()


@pytest.fixture(scope="session")
def migrated_template(private_cluster, tmp_path_factory) -> str:
    """A database of the private cluster with every migration applied, to copy from."""
    private_cluster.psql('CREATE DATABASE "dayao_template"')
    env = installation_env(
        tmp_path_factory.mktemp("template"), private_cluster.url("dayao_template")
    )
    manage(env, "migrate", "-v0")
    return "dayao_template"
