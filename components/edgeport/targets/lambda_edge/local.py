"""Lambda@Edge's local stores: moto in server mode stands in for Secrets Manager and SSM, seeded the way a deployment
seeds them (secrets in us-east-1 with replicas in the declared secret Regions, live settings as SSM parameters), so
the bundle reads them through the AWS SDK exactly as in production. A StoreProxy in front of moto makes them slow
or unreachable for fault tests. Never imports Pulumi."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import LocalRunError
from ...local.aws import LocalAws
from ...local.procs import free_port
from ...local.store_proxy import StoreProxy
from . import NAME, secret_id, secret_regions

if TYPE_CHECKING:
    from ...local.runner import LocalRunner


class AwsStores:
    exposes = ("aws", "store_proxy")  # tests reach them as runner.aws / runner.store_proxy

    def __init__(self, runner: "LocalRunner"):
        self.runner = runner
        self.aws: LocalAws | None = None
        self.store_proxy: StoreProxy | None = None

    def prepare(self, names: list[str], *, store_down: bool) -> dict[str, str]:
        r = self.runner
        if self.aws is None:
            self.aws = LocalAws().start()
        for s in names:
            if r.secrets.get(s):  # an empty value stands for "not stored"
                self.aws.put_secret(secret_id(r.app, r.build.stack, s), r.secrets[s], secret_regions(r.app)[1:])
        for key, value in r.build.local.get(NAME, {}).get("live", {}).items():
            self.set_live(key, value)
        env = self.aws.env()
        if r.store_delay_ms is not None:
            if self.store_proxy is None:
                self.store_proxy = StoreProxy(self.aws.endpoint, r.store_delay_ms).start()
            env.update({"AWS_ENDPOINT_URL_SECRETS_MANAGER": self.store_proxy.url, "AWS_ENDPOINT_URL_SSM": self.store_proxy.url})
        if r.aws_region:
            env["AWS_REGION"] = r.aws_region
        if store_down:
            env["AWS_ENDPOINT_URL_SSM"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        return env

    def started(self, *, store_down: bool) -> None:
        pass

    def set_live(self, key: str, value: str | None) -> None:
        ssm = self.aws.client("ssm")
        if value is None:
            ssm.delete_parameter(Name=key)
        else:
            ssm.put_parameter(Name=key, Value=value, Type="String", Overwrite=True)

    def set_store(self, *, down: bool | None = None, delay_ms: int | None = None) -> None:
        if self.store_proxy is None:
            raise LocalRunError("the Lambda@Edge stores have no proxy: create the LocalRunner with store_delay_ms")
        if down is not None:
            self.store_proxy.down = down
        if delay_ms is not None:
            self.store_proxy.delay_ms = delay_ms

    def stop(self) -> None:
        if self.store_proxy is not None:
            self.store_proxy.stop()
            self.store_proxy = None
        if self.aws is not None:
            self.aws.stop()
            self.aws = None
