"""The stack the pattern tests run: every pattern on its own route, plus a composed route."""

from __future__ import annotations

import secrets

HS_KEY = secrets.token_urlsafe(48)
ISS, AUD = "https://issuer.test/", "api"

SHELL = ("<!doctype html><html><body><h1>Shop</h1>\n<section><!--esi:recs--></section>\n"
         "<aside><!--esi:cart--></aside>\n<footer>end</footer></body></html>\n")

APP = {
    "name": "patterns",
    "origins": {
        "default": "https://origin.example.com",
        "eu": "https://eu.origin.example.com",
        "us": "https://us.origin.example.com",
        "apac": "https://apac.origin.example.com",
        "beta": "https://beta.origin.example.com",
    },
    "targets": {"cloudflare": {"accountId": "0" * 32, "zoneId": "1" * 32, "hostname": "shop.example.com"},
                "lambda-edge": {}, "vercel": {}},
    "patterns": [
        {"name": "auth", "type": "jwt-auth", "routes": ["/api/*"], "algorithms": ["HS256"], "secret": "hs_key",
         "issuer": ISS, "audience": AUD, "forward": {"claims": {"x-user-id": "sub"}}},
        {"name": "exp", "type": "ab-test", "routes": ["/landing", "/landing/*"], "liveTtl": 1,
         "variants": [{"name": "A", "weight": 50, "path": "/a{path}"}, {"name": "B", "weight": 30, "path": "/b{path}"},
                      {"name": "C", "weight": 20, "origin": "beta"}]},
        {"name": "geo", "type": "geo-route", "routes": ["/geo/*"],
         "rules": [{"countries": ["EU"], "origin": "eu"}, {"countries": ["US", "CA"], "origin": "us"},
                   {"countries": ["JP", "KR"], "origin": "apac"}]},
        {"name": "page", "type": "esi-compose", "routes": ["/page/*"], "shell": "/shell.html", "shellCacheTtl": 0,
         "fragments": [{"slot": "recs", "path": "/frag/recs", "timeoutMs": 3000, "fallback": "<p>popular</p>"},
                       {"slot": "cart", "path": "/frag/cart", "timeoutMs": 1200, "fallback": "<p>cart</p>"}]},
        {"name": "cachedpage", "type": "esi-compose", "routes": ["/cached/*"], "shell": "/cached-shell.html",
         "shellCacheTtl": 60, "fragments": [{"slot": "recs", "path": "/frag/recs", "timeoutMs": 1000}]},
        {"name": "bigpage", "type": "esi-compose", "routes": ["/bigpage/*"], "shell": "/big-shell.html",
         "shellCacheTtl": 0, "fragments": [{"slot": "recs", "path": "/frag/recs", "timeoutMs": 1000}]},
        {"name": "rooms", "type": "realtime-room", "routes": ["/rooms/*"], "targets": ["cloudflare"],
         "maxMessageBytes": 256, "maxConnections": 3, "messagesPerSecond": 2, "burst": 3,
         "allowedOrigins": ["https://shop.example.com"]},
        # composition: geo -> auth -> ab on one route
        {"name": "shop-geo", "type": "geo-route", "routes": ["/shop/*"], "rules": [{"countries": ["EU"], "origin": "eu"}]},
        {"name": "shop-auth", "type": "jwt-auth", "routes": ["/shop/*"], "algorithms": ["HS256"], "secret": "hs_key",
         "issuer": ISS, "audience": AUD, "forward": {"claims": {"x-user-id": "sub"}}},
        {"name": "shop-exp", "type": "ab-test", "routes": ["/shop/*"], "live": False,
         "variants": [{"name": "X", "weight": 50}, {"name": "Y", "weight": 50}]},
    ],
}
