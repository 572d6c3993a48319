"""A small OpenID Connect provider for the tests, shaped like ProConnect, run in a thread of the test process.

Endpoints under `<issuer>` = http://127.0.0.1:<port>/api/v2: /.well-known/openid-configuration, /authorize
(approves at once, as the `claims` user), /token (client_secret_post, RS256 ID token with the nonce), /jwks,
/userinfo (a signed JWT, as ProConnect answers) and /session/end. The RSA key is made at start-up.
`tamper` changes what the provider signs, to check that the portal refuses it.
"""

import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class OIDCProvider:
    def __init__(self, *, client_id, client_secret, claims):
        self.client_id = client_id
        self.client_secret = client_secret
        self.claims = dict(claims)
        self.tamper = {}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)
        self.codes, self.tokens, self.seen = {}, {}, []
        self.server = None

    # Life cycle

    def start(self):
        self.server = make_server("127.0.0.1", 0, self.app, server_class=WSGIServer, handler_class=_QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.server.server_port}/api/v2"

    def endpoint(self, name):
        return f"{self.issuer}/{name}"

    # WSGI

    def app(self, environ, start_response):
        path = environ["PATH_INFO"].removeprefix("/api/v2")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        form = {}
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
        self.seen.append((path, {**query, **form}))
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/token": self.token,
            "/jwks": self.jwks,
            "/userinfo": self.userinfo,
            "/session/end": self.end_session,
        }
        handler = routes.get(path)
        if handler is None:
            return self._answer(start_response, "404 Not Found", {"error": "not_found"})
        return handler(start_response, query=query, form=form, environ=environ)

    def _answer(self, start_response, status, body, content_type="application/json", headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data))), *headers])
        return [data]

    def _redirect(self, start_response, url):
        start_response("302 Found", [("Location", url), ("Content-Length", "0")])
        return [b""]

    def _sign(self, payload):
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})

    # Endpoints

    def discovery(self, start_response, **kwargs):
        return self._answer(start_response, "200 OK", {
            "issuer": self.issuer,
            "authorization_endpoint": self.endpoint("authorize"),
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "jwks_uri": self.endpoint("jwks"),
            "end_session_endpoint": self.endpoint("session/end"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["RS256"],
        })

    def authorize(self, start_response, query, **kwargs):
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return self._answer(start_response, "400 Bad Request", {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": query.get("nonce"), "redirect_uri": query["redirect_uri"]}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        return self._redirect(start_response, f"{query['redirect_uri']}{separator}"
                              f"{urlencode({'code': code, 'state': query['state']})}")

    def token(self, start_response, form, **kwargs):
        grant = self.codes.pop(form.get("code"), None)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret) or grant is None \
                or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._answer(start_response, "400 Bad Request", {"error": "invalid_grant"})
        now = int(time.time())
        id_token = self._sign({
            "iss": self.issuer, "sub": self.claims["sub"], "aud": self.client_id, "iat": now, "exp": now + 60,
            "nonce": grant["nonce"], "acr": "eidas1", **self.tamper,
        })
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = id_token
        return self._answer(start_response, "200 OK", {
            "access_token": access_token, "token_type": "Bearer", "expires_in": 60, "id_token": id_token,
        })

    def jwks(self, start_response, **kwargs):
        key = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk = {**key, "kid": self.kid, "alg": "RS256", "use": "sig"}
        return self._answer(start_response, "200 OK", {"keys": [jwk]})

    def userinfo(self, start_response, environ, **kwargs):
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return self._answer(start_response, "401 Unauthorized", {"error": "invalid_token"})
        body = self._sign({"iss": self.issuer, "aud": self.client_id, **self.claims}).encode()
        return self._answer(start_response, "200 OK", body, content_type="application/jwt")

    def end_session(self, start_response, query, **kwargs):
        if query.get("id_token_hint") not in self.tokens.values():
            return self._answer(start_response, "400 Bad Request", {"error": "invalid_request"})
        return self._redirect(start_response, f"{query['post_logout_redirect_uri']}")
