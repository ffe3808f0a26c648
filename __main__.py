"""The Pulumi program: load this stack's edgeport:app, build the edge bundles, create the resources."""

from edgeport.program import main

main()
