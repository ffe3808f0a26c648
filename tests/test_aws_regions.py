"""The table of nearby AWS Regions (spec/aws_regions.py NEAREST) and the per-stack answers the Lambda@Edge bundle
gets from it (nearest_holders -> each secret's awsNearest; the edge code's rule is
functions/platforms/lambda-edge/aws-regions.ts, whose steps are tested beside it)."""

from __future__ import annotations

from edgeport.spec import aws_regions

DEFAULT = aws_regions.readable(list(aws_regions.REGIONAL_EDGE_CACHES))


def test_every_known_region_lists_others_and_reaches_a_default_region():
    assert aws_regions.KNOWN == set(aws_regions.NEAREST)
    for region, near in aws_regions.NEAREST.items():
        assert region not in near, f"{region} lists itself"
        assert set(near) <= aws_regions.KNOWN, f"{region}: {near}"
        if region not in DEFAULT:
            assert any(r in DEFAULT for r in near), f"{region}: no default Region among {near}"


def test_nearest_holders_of_the_default_regions():
    got = aws_regions.nearest_holders(DEFAULT)
    assert not set(got) & set(DEFAULT), "a Region holding the secret reads its own copy"
    assert set(got) == aws_regions.KNOWN - set(DEFAULT), "every other known Region has an answer"
    assert {r: got[r] for r in ("eu-west-3", "eu-north-1", "ap-southeast-4", "ap-northeast-3", "us-west-1",
                                "me-central-1", "ca-central-1")} == {
        "eu-west-3": "eu-west-2", "eu-north-1": "eu-central-1", "ap-southeast-4": "ap-southeast-2",
        "ap-northeast-3": "ap-northeast-1", "us-west-1": "us-west-2", "me-central-1": "ap-south-1",
        "ca-central-1": "us-east-1"}


def test_nearest_holders_keeps_the_table_order_and_leaves_out_regions_with_no_neighbour_holding_it():
    # only the primary and Paris hold it: London's first neighbour is Paris; Sydney has no neighbour holding it, so it
    # gets no answer and the edge code's prefix rule, then the primary, decides
    got = aws_regions.nearest_holders(["us-east-1", "eu-west-3"])
    assert got["eu-west-2"] == "eu-west-3" and got["us-east-2"] == "us-east-1"
    assert "ap-southeast-2" not in got and "us-east-1" not in got and "eu-west-3" not in got
    assert aws_regions.nearest_holders(["us-east-1"]) == {r: "us-east-1" for r, near in aws_regions.NEAREST.items()
                                                          if r != "us-east-1" and "us-east-1" in near}
