"""Spec layer: typed, validated pattern declarations. Pure Python; never imports Pulumi."""

from .loader import Stack, find_project_dir, load_stack, parse_app
from .models import AbTest, App, CloudflareTarget, EsiCompose, GeoRoute, JwtAuth, LambdaEdgeTarget, RealtimeRoom, Targets, VercelTarget

__all__ = [
    "AbTest", "App", "CloudflareTarget", "EsiCompose", "GeoRoute", "JwtAuth", "LambdaEdgeTarget", "RealtimeRoom",
    "Stack", "Targets", "VercelTarget", "find_project_dir", "load_stack", "parse_app",
]
