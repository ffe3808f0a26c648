"""Build layer: edge bundles per target from functions/, with the stack's config injected."""

from .artifacts import Artifact, BuildResult
from .bundler import build_app, default_out_dir, functions_dir, node_binary

__all__ = ["Artifact", "BuildResult", "build_app", "default_out_dir", "functions_dir", "node_binary"]
