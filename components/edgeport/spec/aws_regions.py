"""AWS Regions for Lambda@Edge secrets: where they may be replicated, and the default set.

Lambda@Edge runs in many Regions but AWS publishes no list of them (CloudFront Developer Guide, "Edge function
logs": replicas log "in the AWS Regions where the functions are run"; no page lists those Regions). The default is
therefore a best-effort proxy: the Regions of CloudFront's regional edge caches, which is where CloudFront offers
Origin Shield ("Amazon CloudFront offers Origin Shield in AWS Regions where CloudFront has a regional edge cache",
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html, list of Regions on that page;
June 2023 archive: awsdocs/amazon-cloudfront-developer-guide doc_source/origin-shield.md). A replica Region outside
this set still works: the edge code reads the nearest Region that holds the secret (NEAREST below, and
functions/platforms/lambda-edge/aws-regions.ts).
"""

from __future__ import annotations

PRIMARY = "us-east-1"  # Lambda@Edge functions, and so edgeport's stores, live here

REGIONAL_EDGE_CACHES = (
    "us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
    "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
)

# For each commercial Region (partition "aws") Secrets Manager can replicate to, as of 2026, nearby Regions, nearest
# first: the same area first (Americas, Europe with Israel, the Middle East and Africa, Asia-Pacific), ordered by the
# rough distance between the Regions' cities, and reaching at least one Region of REGIONAL_EDGE_CACHES (the default
# secretRegions). Distance, not measured latency: a best-effort order that only has to be much better than crossing an
# ocean to us-east-1. GovCloud and China are other partitions: a replica cannot cross into them. The edge code gets
# only the answers a stack needs (nearest_holders, in each secret's config), not this table.
NEAREST: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-2", "ca-central-1"),
    "us-east-2": ("us-east-1", "ca-central-1"),
    "us-west-1": ("us-west-2", "ca-west-1", "us-east-2"),
    "us-west-2": ("us-west-1", "ca-west-1"),
    "ca-central-1": ("us-east-1", "us-east-2"),
    "ca-west-1": ("us-west-2", "us-west-1", "us-east-2"),
    "mx-central-1": ("us-east-2", "us-east-1", "us-west-1", "us-west-2"),
    "sa-east-1": ("us-east-1",),
    "eu-west-1": ("eu-west-2", "eu-west-3", "eu-central-1"),
    "eu-west-2": ("eu-west-3", "eu-west-1", "eu-central-1"),
    "eu-west-3": ("eu-west-2", "eu-central-1", "eu-central-2", "eu-west-1"),
    "eu-central-1": ("eu-central-2", "eu-west-3", "eu-west-2", "eu-west-1"),
    "eu-central-2": ("eu-central-1", "eu-south-1", "eu-west-3"),
    "eu-north-1": ("eu-central-1", "eu-west-2", "eu-west-1"),
    "eu-south-1": ("eu-central-2", "eu-central-1", "eu-west-3"),
    "eu-south-2": ("eu-west-3", "eu-south-1", "eu-west-2", "eu-central-1"),
    "il-central-1": ("eu-south-1", "eu-central-1", "eu-central-2", "eu-west-3"),
    "me-south-1": ("me-central-1", "ap-south-1", "eu-central-1"),
    "me-central-1": ("me-south-1", "ap-south-1", "eu-central-1"),
    "af-south-1": ("eu-west-2", "eu-west-1", "eu-central-1", "ap-south-1"),
    "ap-south-1": ("ap-south-2", "me-central-1", "ap-southeast-1"),
    "ap-south-2": ("ap-south-1", "ap-southeast-1"),
    "ap-east-1": ("ap-east-2", "ap-southeast-1", "ap-northeast-2", "ap-northeast-1"),
    "ap-east-2": ("ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1"),
    "ap-northeast-1": ("ap-northeast-3", "ap-northeast-2"),
    "ap-northeast-2": ("ap-northeast-3", "ap-northeast-1"),
    "ap-northeast-3": ("ap-northeast-1", "ap-northeast-2"),
    "ap-southeast-1": ("ap-southeast-5", "ap-southeast-3", "ap-southeast-7"),
    "ap-southeast-2": ("ap-southeast-4",),
    "ap-southeast-3": ("ap-southeast-1", "ap-southeast-5"),
    "ap-southeast-4": ("ap-southeast-2",),
    "ap-southeast-5": ("ap-southeast-1", "ap-southeast-7"),
    "ap-southeast-7": ("ap-southeast-1", "ap-southeast-5"),
}

KNOWN = frozenset(NEAREST)  # what secretRegions accepts


def readable(configured: list[str] | tuple[str, ...]) -> list[str]:
    """The Regions holding a secret, primary first: an empty list means the primary alone (no replication)."""
    return [PRIMARY, *(r for r in configured if r != PRIMARY)]


def nearest_holders(holding: list[str] | tuple[str, ...]) -> dict[str, str]:
    """For each known Region that does not hold the secret, the first Region of NEAREST[it] that does: step 2 of the
    edge code's rule (functions/platforms/lambda-edge/aws-regions.ts), which reads this map from the secret's config
    (`awsNearest`). Regions the map leaves out fall to the edge code's prefix rule, then the primary."""
    held = set(holding)
    out: dict[str, str] = {}
    for running, near in NEAREST.items():
        if running in held:
            continue
        pick = next((r for r in near if r in held), None)
        if pick is not None:
            out[running] = pick
    return out


def replicas(configured: list[str] | tuple[str, ...]) -> list[str]:
    """The replica Regions: the primary holds the secret itself (Secrets Manager refuses it as a replica)."""
    return readable(configured)[1:]
