"""Hosts edgeport's components for other Pulumi languages (launched by the Pulumi CLI)."""

from pulumi.provider.experimental import component_provider_host

from edgeport import __version__
from edgeport.components import COMPONENTS

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name="edgeport", version=__version__)
