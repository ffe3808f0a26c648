"""Country codes and named country groups for geo routing.

Groups are frozen sets of ISO 3166-1 alpha-2 codes. Sources:
- EU27: the member states listed on european-union.europa.eu (2020-02-01 onwards, after the UK left).
  The EU itself writes Greece as "EL"; ISO (and every edge platform) uses "GR".
- EEA: EU27 plus Iceland, Liechtenstein and Norway (EEA Agreement).
Switzerland (CH) and the United Kingdom (GB, under UK GDPR) are in neither group: map them explicitly.
"""

from __future__ import annotations

import pycountry

EU27 = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
EEA = EU27 | frozenset({"IS", "LI", "NO"})

GROUPS: dict[str, frozenset[str]] = {"EU": EU27, "EEA": EEA}

# Codes the platforms send that are not countries: Cloudflare's XX (unknown) and
# T1 (Tor). They always take a geo route's fallback.
UNKNOWN_CODES = frozenset({"XX", "T1"})

_COMMON_MISTAKES = {
    "UK": "GB (ISO 3166-1 writes the United Kingdom as GB)",
    "EL": "GR (ISO 3166-1 writes Greece as GR; EL is the EU's own code)",
}


def is_country(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None


def country_hint(code: str) -> str:
    if code.upper() in _COMMON_MISTAKES:
        return f"use {_COMMON_MISTAKES[code.upper()]}"
    if code.upper() != code and is_country(code.upper()):
        return f"write it in upper case: {code.upper()}"
    groups = ", ".join(sorted(GROUPS))
    return f"use an ISO 3166-1 alpha-2 code (e.g. DE, US, JP) or a group name ({groups})"


def expand(codes: list[str]) -> set[str]:
    """Expand group names into country codes (codes must already be validated)."""
    out: set[str] = set()
    for c in codes:
        out |= GROUPS.get(c, {c})
    return out
