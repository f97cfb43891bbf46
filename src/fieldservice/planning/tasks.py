"""Background tasks of the planning app: one optimisation run."""

from django_tasks import task


@task()
def optimise(run_id: int) -> str:
    """Plan the run's day if it is still queued (a repeat of the task does nothing)."""
    from fieldservice.planning.services import execute_run

    return execute_run(run_id)
