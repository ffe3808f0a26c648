"""edgeport: declare edge patterns once, materialize them on Cloudflare, Lambda@Edge and Vercel.

Layers (data flows one way): ``edgeport.spec`` (validated declarations, no Pulumi)
-> ``edgeport.build`` (bundles per target) -> ``edgeport.components`` (Pulumi).
Import the components from ``edgeport.components`` (importing this package does not load Pulumi).
"""

__version__ = "0.1.0"
