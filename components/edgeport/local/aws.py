"""Local AWS for Lambda@Edge: moto in server mode on loopback, seeded with boto3.

The Lambda@Edge bundle reads its secrets from Secrets Manager exactly as it does
in production; locally the AWS SDK is pointed at this server through
AWS_ENDPOINT_URL_SECRETS_MANAGER, so the code path is the deployed one.
"""

from __future__ import annotations

from ..errors import LocalRunError

REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class LocalAws:
    def __init__(self):
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as e:  # moto is in the `local` extra
            raise LocalRunError("Lambda@Edge runs locally against moto: pip install 'edgeport[local]'") from e
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> "LocalAws":
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def put_secret(self, secret_id: str, value: str) -> None:
        sm = self.client("secretsmanager")
        try:
            sm.create_secret(Name=secret_id, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=secret_id, SecretString=value)

    def env(self) -> dict[str, str]:
        """Environment for a process whose AWS SDK should talk to this server."""
        return {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint,
                "AWS_ENDPOINT_URL_SSM": self.endpoint}
