"""Oversight for the center and the Development and Reform Bureau: the figures of the dashboards
and monthly reports (:mod:`jifen.oversight.figures`), their summary tables and refresh job."""
