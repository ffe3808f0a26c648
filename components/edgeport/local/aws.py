"""Local AWS for Lambda@Edge: moto in server mode on loopback, seeded with boto3.

The Lambda@Edge bundle reads its secrets from Secrets Manager exactly as it does
in production; locally the AWS SDK is pointed at this server through
AWS_ENDPOINT_URL_SECRETS_MANAGER, so the code path is the deployed one. moto keeps
a backend per Region and picks it from the request's signature, so a replica
Region the function reads from must hold the secret here too (put_secret).
Each LocalAws is its own moto process: moto keeps its state per process, and
two local stacks must not see each other's secrets.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time

from ..errors import LocalRunError
from .procs import free_port, stop_group

REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
START_TIMEOUT = 30.0


class LocalAws:
    def __init__(self):
        if importlib.util.find_spec("moto") is None:  # moto is in the `local` extra
            raise LocalRunError("Lambda@Edge runs locally against moto: pip install 'edgeport[local]'")
        self.endpoint = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> "LocalAws":
        port = free_port()
        self._proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LocalRunError(f"moto server exited with {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    self.endpoint = f"http://127.0.0.1:{port}"
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise LocalRunError("moto server did not start within 30 s")

    def stop(self) -> None:
        if self._proc is not None:
            stop_group(self._proc, 5.0)
        self._proc = None

    def client(self, service: str):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def put_secret(self, secret_id: str, value: str, replicas: list[str] | tuple[str, ...] = ()) -> None:
        """Store a secret in us-east-1 with replicas in `replicas`, as a deployment does (moto serves a replica
        under the same name in its Region)."""
        sm = self.client("secretsmanager")
        try:
            sm.create_secret(Name=secret_id, SecretString=value,
                             **({"AddReplicaRegions": [{"Region": r} for r in replicas]} if replicas else {}))
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=secret_id, SecretString=value)

    def env(self) -> dict[str, str]:
        """Environment for a process whose AWS SDK should talk to this server."""
        return {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint,
                "AWS_ENDPOINT_URL_SSM": self.endpoint}
