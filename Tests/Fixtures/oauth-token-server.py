#!/usr/bin/env python3
"""Local OAuth2 authorization server for Postdesk's tests (127.0.0.1 only, Python 3 standard library only).

It speaks the real endpoints (RFC 6749, 7636 PKCE S256, 8628 device flow, 7662 introspection), so the
OAuthTokens tests and Dovecot's `oauth2` passdb (introspection_mode = post) can use the same server.

Usage:
  oauth-token-server.py --port-file FILE [--pidfile FILE] [--user bench --user other]
                        [--client-id postdesk-test] [--client-secret s3cret] [--app-user NAME]
                        [--access-lifetime 3600] [--device-interval 1] [--no-rotation]

  Binds 127.0.0.1 on port 0 (the kernel picks a free port) and writes that port, then a newline, to
  --port-file (written to a temporary name and renamed, so a reader never sees half a number). SIGTERM stops it.
  Users default to "bench". --app-user (default: the first user) is the username client-credentials tokens
  introspect as. Tokens are random (secrets.token_urlsafe). Refresh-token rotation is on by default: each
  refresh answers a new refresh token and invalidates the one presented, as Microsoft's identity platform does.

Checked with Dovecot 2.3.19 (oauth2 passdb, mechanisms xoauth2 oauthbearer) and this oauth2.conf.ext:
  introspection_mode = post
  introspection_url = http://127.0.0.1:PORT/introspect
  username_attribute = username
  active_attribute = active
  active_value = true
  timeout_msecs = 5000
XOAUTH2 and OAUTHBEARER logins with an issued token succeed; an expired token, or another user's, fails.

Endpoints (form bodies are application/x-www-form-urlencoded; answers are JSON unless said otherwise):
  GET  /authorize   response_type=code, client_id, redirect_uri, state, code_challenge,
                    code_challenge_method=S256, scope[, login_hint=USER]
                    Auto-approves: 302 to redirect_uri?code=C&state=S (user: login_hint, else the first --user).
                    Bad requests: 400 JSON {"error": ...} (no redirect to an unchecked URI).
  POST /token       grant_type=authorization_code  code, redirect_uri, client_id, code_verifier (S256 checked)
                    grant_type=refresh_token       refresh_token, client_id[, scope]
                    grant_type=client_credentials  client_id, client_secret (required), scope
                    grant_type=urn:ietf:params:oauth:grant-type:device_code  device_code, client_id
                    A client_secret, when sent with any grant, must match --client-secret (else 401
                    invalid_client). Success: {"access_token", "token_type": "Bearer", "expires_in",
                    "scope"[, "refresh_token"]}. Errors: 400 {"error", "error_description"}.
  POST /devicecode  client_id, scope -> {"device_code", "user_code", "verification_uri",
                    "verification_uri_complete", "expires_in", "interval"}
  GET  /device      user_code=U[&user=NAME][&deny=1]: the test stands in for the person at the browser;
                    approves (or denies) that device code. Answers {"approved": true} or {"denied": true}.
  POST /introspect  token=T -> {"active": true, "username", "email", "exp", "scope", "client_id"}
                    or {"active": false}
  GET  /tokeninfo   ?access_token=T (Google style) -> the same JSON as /introspect, 400 when not active

Control endpoints for tests (POST with a form body, or GET where said; all answer JSON):
  POST /control/revoke         refresh_token=R, or user=NAME (all of that user's refresh tokens)
  POST /control/expire-access  every access token issued so far expires now
  POST /control/config         any of: access_lifetime=SECONDS, rotation=true|false, device_interval=SECONDS,
                               device_lifetime=SECONDS
  POST /control/fail           count=N, status=HTTP, error=CODE[, description=TEXT][, endpoint=/token]
                               the next N requests to that endpoint (default /token) answer this error
                               (status >= 500 answers a plain-text body, as a failing proxy would)
  POST /control/delay          count=N, seconds=S[, endpoint=/token]: the next N requests wait S seconds first
  POST /control/slow-down      count=N: the next N device-code polls answer slow_down
  POST /control/issue          user=NAME: a fresh access + refresh token pair without any flow (for rigs)
  GET  /control/log            every request so far, in order: [{"time", "method", "path", "grant_type",
                               "status", "error"}] (no token or secret values)
  POST /control/reset-log      empties the log
  GET  /control/in-flight      {"in_flight": N}: non-control POSTs being answered now (e.g. held by a delay)
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class State:
    """Everything the server knows, behind one lock (ThreadingHTTPServer answers on many threads)."""

    def __init__(self, args):
        self.lock = threading.RLock()  # reentrant: reply() records under the lock its callers may hold
        self.users = args.user or ["bench"]
        self.app_user = args.app_user or self.users[0]
        self.client_id = args.client_id
        self.client_secret = args.client_secret
        self.access_lifetime = args.access_lifetime
        self.rotation = not args.no_rotation
        self.device_interval = args.device_interval
        self.device_lifetime = 600
        self.access = {}  # access token -> {"user", "exp", "scope", "client_id"}
        self.refresh = {}  # refresh token -> {"user", "scope", "client_id"}
        self.codes = {}  # authorization code -> {"user", "redirect_uri", "challenge", "client_id", "scope", "exp"}
        self.devices = {}  # device code -> {"user_code", "exp", "state": pending|approved|denied, "user", "scope"}
        self.failures = {}  # endpoint -> list of (status, error, description)
        self.delays = {}  # endpoint -> list of seconds
        self.slow_downs = 0
        self.in_flight = 0  # non-control POSTs being answered (e.g. waiting out a /control/delay)
        self.log = []


def b64url_sha256(text):
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Handler(BaseHTTPRequestHandler):
    server_version = "oauth-token-server/1"
    protocol_version = "HTTP/1.1"

    # ---- plumbing -------------------------------------------------------------------------------------------
    @property
    def state(self):
        return self.server.state

    def reply(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.record(status, obj.get("error") if isinstance(obj, dict) else None)

    def reply_text(self, status, text, error=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.record(status, error)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.record(302, None)

    def record(self, status, error):
        with self.state.lock:
            self.state.log.append({
                "time": time.time(), "method": self.command, "path": self.path_only,
                "grant_type": getattr(self, "grant_type", None), "status": status, "error": error,
            })

    def read_form(self):
        length = int(self.headers.get("Content-Length", 0) or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)
        return {key: values[0] for key, values in form.items()}

    def injected(self, endpoint):
        """Applies a queued delay, then answers a queued failure; True when a failure was answered."""
        with self.state.lock:
            delays = self.state.delays.get(endpoint) or []
            delay = delays.pop(0) if delays else 0
            failures = self.state.failures.get(endpoint) or []
            failure = failures.pop(0) if failures else None
        if delay:
            time.sleep(delay)
        if failure is None:
            return False
        status, error, description = failure
        if status >= 500:
            self.reply_text(status, f"{status} {error}: {description}", error)
        else:
            self.reply(status, {"error": error, "error_description": description})
        return True

    def log_message(self, fmt, *args):
        pass

    # ---- tokens ---------------------------------------------------------------------------------------------
    def issue(self, user, scope, client_id, with_refresh):
        st = self.state
        access = secrets.token_urlsafe(32)
        st.access[access] = {"user": user, "exp": time.time() + st.access_lifetime, "scope": scope,
                             "client_id": client_id}
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": st.access_lifetime,
                  "scope": scope}
        if with_refresh:
            refresh = secrets.token_urlsafe(48)
            st.refresh[refresh] = {"user": user, "scope": scope, "client_id": client_id}
            answer["refresh_token"] = refresh
        return answer

    def token(self, form):
        st = self.state
        grant = form.get("grant_type", "")
        self.grant_type = grant
        if self.injected("/token"):
            return
        client_id = form.get("client_id", "")
        if client_id != st.client_id:
            return self.reply(401, {"error": "invalid_client", "error_description": f"unknown client '{client_id}'"})
        if "client_secret" in form and form["client_secret"] != st.client_secret:
            return self.reply(401, {"error": "invalid_client",
                                    "error_description": "AADSTS7000215: Invalid client secret provided."})
        with st.lock:
            if grant == "authorization_code":
                code = st.codes.pop(form.get("code", ""), None)
                if code is None or code["exp"] < time.time() or code["client_id"] != client_id:
                    return self.reply(400, {"error": "invalid_grant",
                                            "error_description": "authorization code unknown, used or expired"})
                if form.get("redirect_uri", "") != code["redirect_uri"]:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
                if b64url_sha256(form.get("code_verifier", "")) != code["challenge"]:
                    return self.reply(400, {"error": "invalid_grant",
                                            "error_description": "PKCE verification failed (code_verifier)"})
                return self.reply(200, self.issue(code["user"], code["scope"], client_id, True))
            if grant == "refresh_token":
                presented = form.get("refresh_token", "")
                entry = st.refresh.get(presented)
                if entry is None:
                    return self.reply(400, {"error": "invalid_grant", "error_description":
                                            "AADSTS70000: refresh token revoked, expired or already used"})
                if st.rotation:
                    del st.refresh[presented]
                answer = self.issue(entry["user"], entry["scope"], client_id, st.rotation)
                return self.reply(200, answer)
            if grant == "client_credentials":
                if "client_secret" not in form:
                    return self.reply(401, {"error": "invalid_client",
                                            "error_description": "client_secret is required"})
                return self.reply(200, self.issue(st.app_user, form.get("scope", ""), client_id, False))
            if grant == DEVICE_GRANT:
                device = st.devices.get(form.get("device_code", ""))
                if device is None:
                    return self.reply(400, {"error": "invalid_grant", "error_description": "unknown device_code"})
                if device["exp"] < time.time():
                    return self.reply(400, {"error": "expired_token", "error_description": "device code expired"})
                if st.slow_downs > 0:
                    st.slow_downs -= 1
                    return self.reply(400, {"error": "slow_down", "error_description": "polling too fast"})
                if device["state"] == "pending":
                    return self.reply(400, {"error": "authorization_pending",
                                            "error_description": "the user has not finished yet"})
                if device["state"] == "denied":
                    del st.devices[form["device_code"]]
                    return self.reply(400, {"error": "access_denied", "error_description": "the user declined"})
                del st.devices[form["device_code"]]
                return self.reply(200, self.issue(device["user"], device["scope"], client_id, True))
        return self.reply(400, {"error": "unsupported_grant_type", "error_description": f"'{grant}'"})

    def devicecode(self, form):
        st = self.state
        if self.injected("/devicecode"):
            return
        if form.get("client_id", "") != st.client_id:
            return self.reply(400, {"error": "invalid_client", "error_description": "unknown client"})
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        port = self.server.server_address[1]
        with st.lock:
            st.devices[device_code] = {"user_code": user_code, "exp": time.time() + st.device_lifetime,
                                       "state": "pending", "user": st.users[0], "scope": form.get("scope", "")}
            lifetime, interval = st.device_lifetime, st.device_interval
        uri = f"http://127.0.0.1:{port}/device"
        self.reply(200, {"device_code": device_code, "user_code": user_code, "verification_uri": uri,
                         "verification_uri_complete": f"{uri}?user_code={user_code}",
                         "expires_in": lifetime, "interval": interval,
                         "message": f"To sign in, open {uri} and enter the code {user_code}."})

    def introspection(self, token):
        with self.state.lock:
            entry = self.state.access.get(token)
        if entry is None or entry["exp"] < time.time():
            return None
        return {"active": True, "username": entry["user"], "email": f"{entry['user']}@support.test",
                "exp": int(entry["exp"]), "scope": entry["scope"], "client_id": entry["client_id"]}

    # ---- control --------------------------------------------------------------------------------------------
    def control(self, name, form):
        st = self.state
        with st.lock:
            if name == "revoke":
                if "refresh_token" in form:
                    found = st.refresh.pop(form["refresh_token"], None) is not None
                    return self.reply(200, {"revoked": 1 if found else 0})
                gone = [t for t, e in st.refresh.items() if e["user"] == form.get("user")]
                for t in gone:
                    del st.refresh[t]
                return self.reply(200, {"revoked": len(gone)})
            if name == "expire-access":
                now = time.time() - 1
                for entry in st.access.values():
                    entry["exp"] = min(entry["exp"], now)
                return self.reply(200, {"expired": len(st.access)})
            if name == "config":
                if "access_lifetime" in form:
                    st.access_lifetime = int(form["access_lifetime"])
                if "rotation" in form:
                    st.rotation = form["rotation"].lower() in ("1", "true", "yes", "on")
                if "device_interval" in form:
                    st.device_interval = int(form["device_interval"])
                if "device_lifetime" in form:
                    st.device_lifetime = int(form["device_lifetime"])
                return self.reply(200, {"access_lifetime": st.access_lifetime, "rotation": st.rotation,
                                        "device_interval": st.device_interval,
                                        "device_lifetime": st.device_lifetime})
            if name == "fail":
                endpoint = form.get("endpoint", "/token")
                entry = (int(form.get("status", "400")), form.get("error", "invalid_request"),
                         form.get("description", "injected failure"))
                st.failures.setdefault(endpoint, []).extend([entry] * int(form.get("count", "1")))
                return self.reply(200, {"queued": len(st.failures[endpoint])})
            if name == "delay":
                endpoint = form.get("endpoint", "/token")
                st.delays.setdefault(endpoint, []).extend([float(form.get("seconds", "1"))] *
                                                          int(form.get("count", "1")))
                return self.reply(200, {"queued": len(st.delays[endpoint])})
            if name == "slow-down":
                st.slow_downs += int(form.get("count", "1"))
                return self.reply(200, {"queued": st.slow_downs})
            if name == "issue":
                user = form.get("user", st.users[0])
                return self.reply(200, self.issue(user, form.get("scope", "mail"), st.client_id, True))
            if name == "reset-log":
                st.log.clear()
                return self.reply(200, {"cleared": True})
        return self.reply(404, {"error": "not_found", "error_description": f"no control '{name}'"})

    # ---- dispatch -------------------------------------------------------------------------------------------
    def do_POST(self):
        parsed = urllib.parse.urlparse(self.path)
        self.path_only, self.grant_type = parsed.path, None  # one handler serves a keep-alive connection
        form = self.read_form()
        if not parsed.path.startswith("/control/"):
            with self.state.lock:
                self.state.in_flight += 1
            try:
                return self.dispatch_post(parsed, form)
            finally:
                with self.state.lock:
                    self.state.in_flight -= 1
        return self.dispatch_post(parsed, form)

    def dispatch_post(self, parsed, form):
        if parsed.path == "/token":
            return self.token(form)
        if parsed.path == "/devicecode":
            return self.devicecode(form)
        if parsed.path == "/introspect":
            if self.injected("/introspect"):
                return
            return self.reply(200, self.introspection(form.get("token", "")) or {"active": False})
        if parsed.path.startswith("/control/"):
            return self.control(parsed.path[len("/control/"):], form)
        self.reply(404, {"error": "not_found"})

    def do_GET(self):
        parsed = urllib.parse.urlparse(self.path)
        self.path_only, self.grant_type = parsed.path, None
        query = {key: values[0] for key, values in urllib.parse.parse_qs(parsed.query).items()}
        st = self.state
        if parsed.path == "/authorize":
            if self.injected("/authorize"):
                return
            if query.get("client_id") != st.client_id:
                return self.reply(400, {"error": "invalid_client", "error_description": "unknown client"})
            if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256" \
                    or not query.get("code_challenge") or not query.get("redirect_uri"):
                return self.reply(400, {"error": "invalid_request", "error_description":
                                        "needs response_type=code, redirect_uri and a S256 code_challenge"})
            user = query.get("login_hint") or st.users[0]
            if user not in st.users:
                return self.reply(400, {"error": "access_denied", "error_description": f"no user '{user}'"})
            code = secrets.token_urlsafe(32)
            with st.lock:
                st.codes[code] = {"user": user, "redirect_uri": query["redirect_uri"],
                                  "challenge": query["code_challenge"], "client_id": st.client_id,
                                  "scope": query.get("scope", ""), "exp": time.time() + 600}
            params = {"code": code}
            if "state" in query:
                params["state"] = query["state"]
            separator = "&" if "?" in query["redirect_uri"] else "?"
            return self.redirect(query["redirect_uri"] + separator + urllib.parse.urlencode(params))
        if parsed.path == "/device":
            with st.lock:
                match = [d for d in st.devices.values() if d["user_code"] == query.get("user_code")]
                if not match:
                    return self.reply(404, {"error": "not_found", "error_description": "unknown user_code"})
                if query.get("deny"):
                    match[0]["state"] = "denied"
                    return self.reply(200, {"denied": True})
                match[0]["state"] = "approved"
                match[0]["user"] = query.get("user", match[0]["user"])
                return self.reply(200, {"approved": True})
        if parsed.path == "/tokeninfo":
            info = self.introspection(query.get("access_token", ""))
            return self.reply(200 if info else 400, info or {"error": "invalid_token"})
        if parsed.path == "/control/in-flight":
            with st.lock:
                count = st.in_flight
            body = json.dumps({"in_flight": count}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parsed.path == "/control/log":
            with st.lock:
                entries = list(st.log)
            body = json.dumps(entries).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.reply(404, {"error": "not_found"})


def write_atomically(path, text):
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, path)


def main():
    parser = argparse.ArgumentParser(description="Local OAuth2 server for Postdesk tests")
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--pidfile")
    parser.add_argument("--user", action="append")
    parser.add_argument("--app-user")
    parser.add_argument("--client-id", default="postdesk-test")
    parser.add_argument("--client-secret", default="s3cret")
    parser.add_argument("--access-lifetime", type=int, default=3600)
    parser.add_argument("--device-interval", type=int, default=1)
    parser.add_argument("--no-rotation", action="store_true")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(args)
    # A parent may spawn us with signals blocked (a Swift test process does): unblock what stops us.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    if args.pidfile:
        write_atomically(args.pidfile, f"{os.getpid()}\n")
    write_atomically(args.port_file, f"{server.server_address[1]}\n")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
