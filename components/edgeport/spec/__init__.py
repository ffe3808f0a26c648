"""Spec layer: typed, validated declarations. Pure Python; never imports Pulumi.

Each pattern's model lives in its module under edgeport.patterns; the App and the target settings are here."""

from .loader import Stack, find_project_dir, load_stack, parse_app
from .models import App, CloudflareTarget, LambdaEdgeTarget, Targets, VercelTarget

__all__ = ["App", "CloudflareTarget", "LambdaEdgeTarget", "Stack", "Targets", "VercelTarget", "find_project_dir",
           "load_stack", "parse_app"]
