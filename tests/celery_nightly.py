"""The production jobs on the executor that pipelines.executors.executor_from_env() picks, in a module
the Celery workers of tests/test_celery.py import by name (``tests.celery_nightly``).

Everything comes from the environment, which the test gives the run process and both workers alike:
PRESTATIEMONITOR_EXECUTOR (``celery``), PRESTATIEMONITOR_CELERY_BROKER/_BACKEND, DAGSTER_HOME (one
persistent instance) and PRESTATIEMONITOR_TEST_CELERY_WORKSPACE: the test's pickled
``tests.pipeline_helpers.Workspace`` (unpickling does not run ``__init__``, so no process copies the
landing folder again or creates another scratch warehouse: all share its landing copy, IO storage
directory and warehouse URL).

The jobs are those of pipelines.definitions (same name, selection and tags), rebuilt with that
executor and the Workspace's resources: ``nightly`` (sources and staging), then the gemeente-
partitioned ``kpi_per_gemeente`` as one run over all gemeenten, which is what ``Workspace.run()``
materialises in one in-process run; so the tables of both paths are comparable.

``python -m tests.celery_nightly`` executes them (``execute_job`` of the reconstructable jobs) and
prints one line per run, ``<job> <run id> <status>``; the test runs it as a subprocess so that a hung
broker ends in a timeout, not in a hung test process.
"""

from __future__ import annotations

import os
import pickle
import sys

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from assets.partitions import range_tags
from pipelines import definitions as production
from pipelines.executors import executor_from_env
from tests.pipeline_helpers import Workspace

WORKSPACE_ENV = "PRESTATIEMONITOR_TEST_CELERY_WORKSPACE"
NIGHTLY = "nightly"
PER_GEMEENTE = "kpi_per_gemeente"


def workspace() -> Workspace:
    with open(os.environ[WORKSPACE_ENV], "rb") as handle:
        loaded = pickle.load(handle)
    if not isinstance(loaded, Workspace):
        raise TypeError(f"{os.environ[WORKSPACE_ENV]}: geen Workspace maar {type(loaded).__name__}")
    return loaded


def _definitions() -> dg.Definitions:
    jobs = [
        dg.define_asset_job(name=job.name, selection=job.selection, tags=job.tags, executor_def=executor_from_env())
        for job in production.defs.jobs or []
        if isinstance(job, UnresolvedAssetJobDefinition) and job.name in (NIGHTLY, PER_GEMEENTE)
    ]
    return dg.Definitions(
        assets=production.all_assets, asset_checks=production.all_checks, jobs=jobs, resources=workspace().resources()
    )


# reconstructable() needs module-level functions: every process that reconstructs a job (the run
# process and each Celery worker) calls them and builds the job from its own environment.
def nightly() -> dg.JobDefinition:
    return _definitions().resolve_job_def(NIGHTLY)


def kpi_per_gemeente() -> dg.JobDefinition:
    return _definitions().resolve_job_def(PER_GEMEENTE)


def main() -> int:
    from tests import celery_nightly  # by module name, also under `python -m`: the workers import it so

    with dg.DagsterInstance.get() as instance:
        for target, tags in (
            (celery_nightly.nightly, {}),
            (celery_nightly.kpi_per_gemeente, _all_partitions(celery_nightly.kpi_per_gemeente())),
        ):
            result = dg.execute_job(dg.reconstructable(target), instance=instance, tags=tags, raise_on_error=False)
            print(result.job_def.name, result.run_id, "SUCCESS" if result.success else "FAILURE", flush=True)
            if not result.success:
                return 1
    return 0


def _all_partitions(job: dg.JobDefinition) -> dict[str, str]:
    partitions = job.partitions_def
    if partitions is None:
        return {}
    keys = partitions.get_partition_keys()
    return range_tags(keys)


if __name__ == "__main__":
    sys.exit(main())
