"""Thin web front doors (portal, workbench pages) over the domain's service functions."""
