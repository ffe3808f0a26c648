"""Attaching Lambda@Edge functions to a distribution edgeport does not own: the dynamic
provider's boto3 calls against moto in server mode.

moto 5.2 keeps distributions, behaviours and ETags but drops LambdaFunctionAssociations
(its model hard-codes Quantity 0). So the requests are checked as sent to moto - captured
with a botocore parameter hook on the real client - and the merge rules (keep other
functions' associations, refuse to replace them) are checked on the config shape directly.
"""

from __future__ import annotations

import copy

import pytest

from edgeport.local.aws import LocalAws
from edgeport.targets.lambda_edge.associations import AssociationConflict, _AssociationsProvider, apply_associations

FN = "arn:aws:lambda:us-east-1:123456789012:function:shop-prod-viewer-request"
OTHER = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"


@pytest.fixture(scope="module")
def aws():
    a = LocalAws().start()
    yield a
    a.stop()


@pytest.fixture
def sent(monkeypatch):
    """DistributionConfigs passed to UpdateDistribution by any boto3 client created from now on."""
    import boto3

    calls = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("provide-client-params.cloudfront.UpdateDistribution",
                                          lambda params, **_: calls.append(copy.deepcopy(params)))
    yield calls
    boto3.DEFAULT_SESSION = None


@pytest.fixture
def cf(aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    return aws.client("cloudfront")


def behaviour(path, associations=()):
    b = {"TargetOriginId": "origin", "ViewerProtocolPolicy": "redirect-to-https",
         "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, "MinTTL": 0,
         "LambdaFunctionAssociations": {"Quantity": len(associations),
                                        **({"Items": [{"LambdaFunctionARN": a, "EventType": e, "IncludeBody": False}
                                                      for a, e in associations]} if associations else {})}}
    if path:
        b["PathPattern"] = path
    return b


def create_distribution(cf, paths, ref):
    config = {
        "CallerReference": ref, "Comment": "theirs", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "origin", "DomainName": "origin.example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": behaviour(None),
        "CacheBehaviors": {"Quantity": len(paths), "Items": [behaviour(p, a) for p, a in paths]},
    }
    return cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def associations(cf, dist_id):
    cfg = cf.get_distribution_config(Id=dist_id)["DistributionConfig"]
    out = {}
    for b in [cfg["DefaultCacheBehavior"], *(cfg.get("CacheBehaviors", {}).get("Items") or [])]:
        for a in (b.get("LambdaFunctionAssociations") or {}).get("Items") or []:
            out[(b.get("PathPattern", "default"), a["EventType"])] = a["LambdaFunctionARN"]
    return out


def sent_associations(params):
    cfg = params["DistributionConfig"]
    out = {}
    for b in [cfg["DefaultCacheBehavior"], *(cfg.get("CacheBehaviors", {}).get("Items") or [])]:
        for x in (b.get("LambdaFunctionAssociations") or {}).get("Items") or []:
            out[(b.get("PathPattern", "default"), x["EventType"])] = x["LambdaFunctionARN"]
    return out


def test_create_update_delete_through_moto(cf, sent):
    dist = create_distribution(cf, [("/api/*", ()), ("/static/*", ())], "rt")
    etag = cf.get_distribution_config(Id=dist)["ETag"]
    provider = _AssociationsProvider()
    props = {"distribution_id": dist, "associations": [
        {"path_pattern": "/api/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:1"}]}
    created = provider.create(props)
    assert created.outs["domain_name"].endswith(".cloudfront.net")
    assert sent[-1]["Id"] == dist and sent[-1]["IfMatch"] == etag, "optimistic locking with the ETag just read"
    assert sent_associations(sent[-1]) == {("/api/*", "viewer-request"): f"{FN}:1"}
    assert sent[-1]["DistributionConfig"]["Comment"] == "theirs", "the rest of the config is sent back unchanged"

    news = {"distribution_id": dist, "associations": [
        {"path_pattern": "/api/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:2"},
        {"path_pattern": "/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:2"}]}
    assert provider.diff(created.id, created.outs, news).changes
    assert not provider.diff(created.id, created.outs, props).changes
    provider.update(created.id, created.outs, news)
    assert sent_associations(sent[-1]) == {("/api/*", "viewer-request"): f"{FN}:2", ("default", "viewer-request"): f"{FN}:2"}

    provider.delete(created.id, news)
    assert sent_associations(sent[-1]) == {}
    assert len(sent) == 3


def test_missing_behaviour_is_a_clear_error(cf, sent):
    dist = create_distribution(cf, [("/static/*", ())], "missing")
    with pytest.raises(AssociationConflict, match=r"no cache behaviour with path pattern /api/\* \(it has: /static/\*\)"):
        _AssociationsProvider().create({"distribution_id": dist, "associations": [
            {"path_pattern": "/api/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:1"}]})
    assert sent == [], "nothing was changed"


def test_other_functions_are_kept_and_never_replaced():
    cfg = {"DefaultCacheBehavior": behaviour(None),
           "CacheBehaviors": {"Quantity": 2, "Items": [behaviour("/api/*", ((OTHER, "viewer-response"), (f"{FN}:1", "viewer-request"))),
                                                        behaviour("/x/*", ((OTHER, "viewer-request"),))]}}
    out = apply_associations(copy.deepcopy(cfg), [{"path_pattern": "/api/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:2"}], {FN})
    items = out["CacheBehaviors"]["Items"][0]["LambdaFunctionAssociations"]["Items"]
    assert {(i["EventType"], i["LambdaFunctionARN"]) for i in items} == {("viewer-response", OTHER), ("viewer-request", f"{FN}:2")}
    with pytest.raises(AssociationConflict, match="already runs .*someone-elses on viewer-request"):
        apply_associations(copy.deepcopy(cfg), [{"path_pattern": "/x/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:2"}], {FN})


def test_apply_associations_is_pure_on_the_config_shape():
    cfg = {"DefaultCacheBehavior": behaviour(None), "CacheBehaviors": {"Quantity": 1, "Items": [behaviour("/api/*")]}}
    before = copy.deepcopy(cfg)
    out = apply_associations(cfg, [{"path_pattern": "/api/*", "event_type": "viewer-request", "lambda_arn": f"{FN}:3"}], set())
    assert out["CacheBehaviors"]["Items"][0]["LambdaFunctionAssociations"] == {
        "Quantity": 1, "Items": [{"LambdaFunctionARN": f"{FN}:3", "EventType": "viewer-request", "IncludeBody": False}]}
    assert out["DefaultCacheBehavior"]["LambdaFunctionAssociations"] == before["DefaultCacheBehavior"]["LambdaFunctionAssociations"]


def test_a_guard_goes_on_every_behaviour_of_an_existing_distribution():
    # Any behaviour routes requests to the origin, so a guard (jwt-auth) must run on each of them.
    cfg = {"DefaultCacheBehavior": behaviour(None),
           "CacheBehaviors": {"Quantity": 2, "Items": [behaviour("/static/*"), behaviour("/img/*", ((OTHER, "viewer-response"),))]}}
    every = {"path_pattern": "*every*", "event_type": "viewer-request", "lambda_arn": f"{FN}:4"}
    out = apply_associations(copy.deepcopy(cfg), [every], set())
    for b in [out["DefaultCacheBehavior"], *out["CacheBehaviors"]["Items"]]:
        assert ("viewer-request", f"{FN}:4") in {(i["EventType"], i["LambdaFunctionARN"]) for i in b["LambdaFunctionAssociations"]["Items"]}
    assert ("viewer-response", OTHER) in {(i["EventType"], i["LambdaFunctionARN"])
                                          for i in out["CacheBehaviors"]["Items"][1]["LambdaFunctionAssociations"]["Items"]}
    taken = copy.deepcopy(cfg)
    taken["CacheBehaviors"]["Items"][0] = behaviour("/static/*", ((OTHER, "viewer-request"),))
    with pytest.raises(AssociationConflict, match=r"behaviour /static/\* already runs .*someone-elses on viewer-request"):
        apply_associations(taken, [every], set())
