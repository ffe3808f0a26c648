"""The ROCA fingerprint (CVE-2017-15361): RSA moduli made by Infineon's RSALib.

Nemec, Sys, Svenda, Klinec, Matyas, "The Return of Coppersmith's Attack: Practical
Factorization of Widely Used RSA Moduli" (ACM CCS 2017): the library built every prime as

    p = k * M + (65537^a mod M),    M = the product of the first n primes,

so the private key of such a modulus can be computed from the public key (the paper: hours
for 512 bits, about 97 CPU-days for 1024, at most ~141 CPU-years for 2048 - parallel, so a
matter of money). Because every small prime r dividing M also divides p - (65537^a mod M),
both p and q - and so n = p*q - are powers of 65537 modulo r: n mod r lies in the
multiplicative subgroup that 65537 generates mod r. Every RSALib modulus of any size passes the test below (the primes listed divide M for every
key length the library supports: n is 39 or more), while a modulus made any other way passes
it with probability about 4e-9, one in 240 million (`false_positive_rate`): refusing a key
on it wrongly is not a practical concern.

This is the test of the authors' published detector (the crocs-muni/roca tool), written from
the paper's description: same prime list, same membership test, subgroups computed here.
"""

from __future__ import annotations

from functools import cache
from math import prod

GENERATOR = 65537

# The odd primes below 168 - the list the original ROCA detector tests (2 tells nothing:
# every RSA modulus is odd, and 65537 is 1 mod 2).
PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103,
          107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167)


@cache
def subgroup(r: int) -> frozenset[int]:
    """The powers of 65537 modulo the prime r (the subgroup it generates in (Z/rZ)*)."""
    out, x = set(), 1
    while x not in out:
        out.add(x)
        x = x * GENERATOR % r
    return frozenset(out)


def has_roca_fingerprint(n: int) -> bool:
    """Whether the RSA modulus n has the ROCA fingerprint (n mod r is a power of 65537 for every listed prime r)."""
    if n <= 0:
        return False
    return all(n % r in subgroup(r) for r in PRIMES)


def false_positive_rate() -> float:
    """Chance that a modulus not made by RSALib has the fingerprint: each residue is uniform over (Z/rZ)*
    for a random modulus, so the product of |subgroup| / (r - 1) over the primes."""
    return prod(len(subgroup(r)) / (r - 1) for r in PRIMES)
