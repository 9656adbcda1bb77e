"""Job handlers of the simulations app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

from typing import Any

from jifen.jobs.registry import handler
from jifen.jobs.worker import JobContext
from jifen.simulations.models import Simulation
from jifen.simulations.services import JOB_KIND, run_simulation


@handler(JOB_KIND)
def run(context: JobContext) -> dict[str, Any]:
    """Compute and store one simulation's figures."""
    simulation = Simulation.objects.select_related("draft", "scenario_version__scenario").get(
        pk=context.args["simulation"]
    )
    run_simulation(simulation, now=context.now())
    return {"simulation": simulation.pk, "status": simulation.status, "seconds": simulation.seconds}
