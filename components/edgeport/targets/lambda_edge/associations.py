"""Lambda@Edge associations on a CloudFront distribution edgeport does not own: a dynamic resource that edits
only its own entries of the distribution's config (boto3), refusing to replace another function's association."""

from __future__ import annotations

import pulumi
import pulumi.dynamic

from . import EVERY_BEHAVIOUR, REGION



class AssociationConflict(Exception):
    pass


def _fn_base(arn: str) -> str:
    """arn:aws:lambda:us-east-1:123:function:name:7 -> arn:aws:lambda:us-east-1:123:function:name"""
    parts = arn.split(":")
    return ":".join(parts[:7])


def apply_associations(config: dict, associations: list[dict], remove_functions: set[str]) -> dict:
    """Edit a CloudFront DistributionConfig (boto3 shape) in place and return it.

    First drops every association whose function is in `remove_functions` (unversioned ARNs),
    then sets each wanted association on the behaviour whose PathPattern equals its route
    (route '/*' means the default behaviour). Refuses to replace another function's association.
    """
    behaviours = {b["PathPattern"]: b for b in config.get("CacheBehaviors", {}).get("Items", []) or []}
    everything = [config["DefaultCacheBehavior"], *behaviours.values()]
    for b in everything:
        items = (b.get("LambdaFunctionAssociations") or {}).get("Items", []) or []
        keep = [i for i in items if _fn_base(i["LambdaFunctionARN"]) not in remove_functions]
        b["LambdaFunctionAssociations"] = {"Quantity": len(keep), **({"Items": keep} if keep else {})}
    for a in associations:
        if a["path_pattern"] == EVERY_BEHAVIOUR:
            for pattern, b in [("*", config["DefaultCacheBehavior"]), *behaviours.items()]:
                _associate(b, pattern, a)
            continue
        target = config["DefaultCacheBehavior"] if a["path_pattern"] == "/*" else behaviours.get(a["path_pattern"])
        if target is None:
            have = ", ".join(sorted(behaviours)) or "none"
            raise AssociationConflict(
                f"the distribution has no cache behaviour with path pattern {a['path_pattern']} (it has: {have}); "
                f"add one, or remove existingDistributionId so edgeport creates the distribution")
        _associate(target, a["path_pattern"], a)
    return config


def _associate(target: dict, pattern: str, a: dict) -> None:
    """Put one association on one behaviour, refusing to replace another function's."""
    items = target["LambdaFunctionAssociations"].get("Items", [])
    other = [i for i in items if i["EventType"] == a["event_type"]]
    if other and _fn_base(other[0]["LambdaFunctionARN"]) != _fn_base(a["lambda_arn"]):
        raise AssociationConflict(
            f"behaviour {pattern} already runs {other[0]['LambdaFunctionARN']} on {a['event_type']} "
            f"(CloudFront allows one function per trigger); remove it first")
    items = [i for i in items if i["EventType"] != a["event_type"]]
    items.append({"LambdaFunctionARN": a["lambda_arn"], "EventType": a["event_type"], "IncludeBody": False})
    target["LambdaFunctionAssociations"] = {"Quantity": len(items), "Items": items}


class _AssociationsProvider(pulumi.dynamic.ResourceProvider):
    """Adds edgeport's Lambda@Edge associations to a distribution edgeport does not own (boto3, default credentials)."""

    def _edit(self, distribution_id: str, associations: list[dict], remove: set[str]) -> dict:
        import boto3

        cf = boto3.client("cloudfront", region_name=REGION)
        got = cf.get_distribution_config(Id=distribution_id)
        config = apply_associations(got["DistributionConfig"], associations, remove)
        out = cf.update_distribution(Id=distribution_id, IfMatch=got["ETag"], DistributionConfig=config)
        return {"distribution_id": distribution_id, "associations": associations,
                "domain_name": out["Distribution"]["DomainName"], "etag": out["ETag"]}

    def create(self, props):
        outs = self._edit(props["distribution_id"], props["associations"], set())
        return pulumi.dynamic.CreateResult(id_=f"{props['distribution_id']}-edgeport", outs=outs)

    def diff(self, _id, olds, news):
        changed = olds.get("associations") != news.get("associations") or olds.get("distribution_id") != news.get("distribution_id")
        return pulumi.dynamic.DiffResult(changes=changed, replaces=["distribution_id"] if olds.get("distribution_id") != news.get("distribution_id") else [],
                                          delete_before_replace=True)

    def update(self, _id, olds, news):
        remove = {_fn_base(a["lambda_arn"]) for a in olds.get("associations", [])}
        return pulumi.dynamic.UpdateResult(outs=self._edit(news["distribution_id"], news["associations"], remove))

    def delete(self, _id, props):
        remove = {_fn_base(a["lambda_arn"]) for a in props.get("associations", [])}
        self._edit(props["distribution_id"], [], remove)


class DistributionAssociations(pulumi.dynamic.Resource):
    domain_name: pulumi.Output[str]

    def __init__(self, name: str, distribution_id: str, associations: list[dict], opts: pulumi.ResourceOptions | None = None):
        super().__init__(_AssociationsProvider(), name,
                         {"distribution_id": distribution_id, "associations": associations, "domain_name": None, "etag": None},
                         opts)
