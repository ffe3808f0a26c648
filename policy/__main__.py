"""edgeport's policy pack: `pulumi preview --policy-pack policy` (run from the project directory).

Pulumi runs this file with the pack's directory on sys.path; the policies live in
edgeport_policy.py so tests can import them without the Pulumi CLI.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from edgeport_policy import POLICIES

PolicyPack("edgeport", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
