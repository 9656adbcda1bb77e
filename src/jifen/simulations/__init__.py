"""Impact simulation of a policy draft (issue 6): whom a change helps and whom it hurts.

:mod:`.simulation` is the pure core (bulk engine + ranking engine over plain data);
:mod:`.population` loads the current population from the database; :mod:`.services` starts a
simulation (center only, audited ``simulation.run``) as a ``simulations.run`` job and stores
the figures on a :class:`~jifen.simulations.models.Simulation`; :mod:`.views` is the workbench
page (server-side SVG histogram) and :mod:`.simulation_report` the Excel and PDF exports.
"""
