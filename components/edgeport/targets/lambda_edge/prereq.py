"""Lambda@Edge prerequisites `edgeport plan` checks (see edgeport.prereq): the distribution's ACM certificate."""

from __future__ import annotations

from typing import Any, Mapping

from ...prereq import TIMEOUT, Finding
from ...spec.validate import ROOT

ACM_REGION = "us-east-1"  # CloudFront uses ACM certificates from us-east-1 only


def check(app, env: Mapping[str, str], offline: bool = False) -> list[Finding]:
    le = app.targets.lambda_edge
    if le and le.distribution and le.distribution.certificate_arn:
        return check_certificate(le.distribution, offline)
    return []


# ---------------------------------------------------------------- ACM certificate


def covers(name: str, host: str) -> bool:
    """Whether a certificate name covers a CloudFront alternate domain name. Equal names do; a wildcard
    `*.example.com` covers one label in its place (`a.example.com`) and "you can't add alternate domain names
    that are at levels higher or lower than the wildcard", so neither example.com nor a.b.example.com (CloudFront
    Developer Guide, "Use custom URLs by adding alternate domain names (CNAMEs)" > Requirements > wildcards).
    DNS names compare case-insensitively."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name == host:
        return True
    if not name.startswith("*."):
        return False
    label, _, rest = host.partition(".")
    return bool(label) and label != "*" and rest == name[2:]


def _aws_credentials_found() -> bool:
    """Whether boto3 finds credentials (environment, profile, SSO, instance role) - the ones `pulumi up` uses."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session().get_credentials() is not None
    except BotoCoreError:
        return False


def describe_certificate(arn: str) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"max_attempts": 2})
    return boto3.client("acm", region_name=ACM_REGION, config=config).describe_certificate(CertificateArn=arn)["Certificate"]


def check_certificate(dist, offline: bool = False) -> list[Finding]:
    """boto3 takes credentials and endpoint from the process environment, as the AWS provider does."""
    from botocore.exceptions import BotoCoreError, ClientError

    path = f"{ROOT}.targets.lambda-edge.distribution.certificateArn"
    arn = dist.certificate_arn
    if offline or not _aws_credentials_found():
        why = "--offline" if offline else "no AWS credentials"
        return [Finding("lambda-edge", "certificate", "skipped", f"{why}: not checked that {arn} is issued and covers "
                        "the aliases", path, "run with the AWS credentials you deploy with to check it")]
    try:
        cert = describe_certificate(arn)
    except ClientError as e:
        err = e.response.get("Error", {})
        if err.get("Code") == "ResourceNotFoundException":
            return [Finding("lambda-edge", "certificate", "error", f"no certificate {arn} in {ACM_REGION} for the account of "
                            "your AWS credentials", path, "request or import the certificate in us-east-1 (CloudFront uses "
                            "no other region) in the account you deploy to, and set its ARN")]
        return [Finding("lambda-edge", "certificate", "warning", f"could not check {arn}: {err.get('Code')}: "
                         f"{err.get('Message')}", path, "allow acm:DescribeCertificate to check it")]
    except BotoCoreError as e:
        return [Finding("lambda-edge", "certificate", "warning", f"could not reach ACM to check {arn}: {e}", path)]
    return judge_certificate(cert, list(dist.aliases), path)


def judge_certificate(cert: Mapping[str, Any], aliases: list[str], path: str) -> list[Finding]:
    status = cert.get("Status")
    if status != "ISSUED":
        return [Finding("lambda-edge", "certificate", "error", f"the certificate is {status}, and CloudFront accepts only an "
                        "issued one", path, _status_hint(status))]
    names = [cert.get("DomainName", ""), *(cert.get("SubjectAlternativeNames") or [])]
    names = sorted({n for n in names if n})
    missing = [a for a in aliases if not any(covers(n, a) for n in names)]
    if missing:
        return [Finding("lambda-edge", "certificate", "error", f"the certificate does not cover {', '.join(missing)} "
                        f"(it covers {', '.join(names) or 'no names'})", f"{ROOT}.targets.lambda-edge.distribution.aliases",
                        "use a certificate whose names include each alias (a wildcard covers one level only), or remove "
                        "the alias")]
    covered = f"covers {', '.join(aliases)}" if aliases else "is issued (no aliases to cover)"
    return [Finding("lambda-edge", "certificate", "ok", f"the certificate {covered}", path)]


def _status_hint(status: Any) -> str:
    if status == "PENDING_VALIDATION":
        return "finish the certificate's domain validation (the DNS records ACM asks for), then plan again"
    if status in ("EXPIRED", "REVOKED", "INACTIVE"):
        return "request or import a new certificate in us-east-1 and set its ARN"
    return "request a new certificate in us-east-1 (this one cannot be issued) and set its ARN"
