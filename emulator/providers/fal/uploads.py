"""fal's storage flows.

- Python, default: ``POST rest/storage/auth/token?storage_type=fal-cdn-v3`` for a CDN token,
  then ``POST cdn/files/upload`` with the bytes (``X-Fal-File-Name``) → ``access_url``.
- Python, over 100 MiB: ``POST {base_url}/files/upload/multipart`` → ``access_url`` and
  ``uploadId``; ``PUT {access_url}/multipart/{uploadId}/{n}`` (answers an ``ETag``); ``POST
  {access_url}/multipart/{uploadId}/complete`` with the parts.
- Python's fallback and the JS client: ``POST rest/storage/upload/initiate`` →
  ``upload_url`` and ``file_url``; ``PUT upload_url`` with the bytes, no credentials.
- JS, over 90 MiB: ``POST rest/storage/upload/initiate-multipart`` → ``upload_url`` and
  ``file_url``; ``PUT {upload_url}/{n}`` answers ``{partNumber, etag}``; ``POST
  {upload_url}/complete`` with the parts, no credentials.

Part and completion URLs carry a random upload id: that, not a token, is their credential
(the JS client sends none); starting an upload on the CDN takes a CDN token.
"""

from __future__ import annotations

import base64
import functools
import json
import mimetypes
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from emulator.core.engine import Engine
from emulator.core.file_urls import MEDIA_PREFIX, UploadPath, file_url, parse_upload_path
from emulator.core.files import Storage
from emulator.core.keys import split_authorization
from emulator.core.stored_files import StorageError, content_url, safe_content_type, safe_name
from emulator.http.bodies import read_body, read_json, receive_reserved
from emulator.http.cdn import cdn_path, download
from emulator.http.responses import json_response
from emulator.providers.fal.errors import FalError, method_not_allowed

TOKEN_LIFETIME = 3600.0
#: A real token is good until it expires, and the clients keep one for its hour (fal_client
#: per client, @fal-ai/client per configuration): sealed with a key that outlived only one
#: emulation, it would be refused by the next test's, and the client's upload fall back to
#: another path. So the sealing key is one the engine keeps (`KeptSecrets`): the process's
#: own, or the shared store's, which every worker accepts, after a reset too.
#: the bytes of a CDN token's nonce, before its sealed claims
_NONCE_BYTES = 12


def _storage_error(error: StorageError) -> FalError:
    return FalError.detail(error.status, error.message)


def _default_name(content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
    return secrets.token_urlsafe(9) + extension


class FalUploads:
    def __init__(self, engine: Engine, cdn_base: Callable[[Request], str]) -> None:
        self.engine = engine
        self.cdn_base = cdn_base

    @property
    def storage(self) -> Storage:
        return self.engine.storage  # read each time: a reset replaces the engine's

    # -- the CDN surface -------------------------------------------------------------------

    async def cdn(self, request: Request) -> Response:
        """``v3.fal.media``: downloads of uploads and media, and the uploads themselves."""
        path = cdn_path(request)
        if request.method in ("GET", "HEAD"):
            response = await download(self.engine, "fal", path, request)
            if response is None:
                raise FalError.detail(404, "File not found")
            return response
        if request.method == "POST" and path == "/files/upload":
            return await self.upload(request)
        if request.method == "POST" and path == "/files/upload/multipart":
            return self.start_multipart(request)
        upload = parse_upload_path(path)
        if path.startswith(MEDIA_PREFIX):
            raise method_not_allowed("GET", "HEAD")
        if upload is not None and upload.multipart_id and request.method in ("PUT", "POST"):
            return await self.multipart(request, upload)
        if upload is not None and request.method == "PUT":
            return await self.put(request, upload)
        if upload is None:
            raise FalError.detail(404, "Not Found")
        raise method_not_allowed(
            *(("PUT", "POST") if upload.multipart_id else ("GET", "HEAD", "PUT"))
        )

    # -- REST: tokens and two-step uploads -----------------------------------------------

    def token(self, request: Request, owner: str) -> Response:
        now = time.time()
        token = self._sealed({"key": owner, "until": now + TOKEN_LIFETIME})
        expires = datetime.fromtimestamp(now + TOKEN_LIFETIME, UTC).isoformat()
        return json_response(
            {
                "token": token,
                "token_type": "Bearer",
                "base_url": self.cdn_base(request),
                "expires_at": expires,
            }
        )

    # A CDN token is its own proof (its claims, sealed), so any worker sharing the engine's
    # state, or a restarted one, accepts what another issued. Sealed, not only signed: its
    # claims name the API key it was issued to, and a token travels where the key does not
    # (a browser, a log), as fal's own, a credential of its own, does.

    def _sealing_key(self) -> bytes:
        return self.engine.kept_secret("fal-cdn-token")  # random: a seed is no secret

    def _sealed(self, claims: dict[str, Any]) -> str:
        # cryptography loads here, at the first token, not with the app
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self._sealing_key()).encrypt(nonce, json.dumps(claims).encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def _opened(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this emulator sealed; None for any other."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            opened = AESGCM(self._sealing_key()).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None
            )
            claims = json.loads(opened)
        except (ValueError, InvalidTag):  # not base64, too short, not ours, not JSON
            return None
        valid = isinstance(claims, dict) and isinstance(claims.get("key"), str)
        return claims if valid and isinstance(claims.get("until"), float) else None

    async def initiate(self, request: Request, owner: str, *, multipart: bool = False) -> Response:
        body = await read_json(request.scope, request.receive, max_bytes=64 * 1024, max_depth=4)
        if not isinstance(body, dict):
            raise FalError.detail(422, "Expected a JSON object with file_name and content_type")
        content_type = safe_content_type(body.get("content_type"))
        name = safe_name(body.get("file_name") or _default_name(content_type))
        if multipart:
            upload_id = self.storage.start_multipart(name, content_type, owner)
            url = file_url(self.cdn_base(request), upload_id, name)
            return json_response({"upload_url": f"{url}/multipart/{upload_id}", "file_url": url})
        file_id = self.storage.reserve(name, content_type, owner)
        url = file_url(self.cdn_base(request), file_id, name)
        return json_response({"upload_url": url, "file_url": url})

    # -- CDN: the bytes ------------------------------------------------------------------

    def _check_token(self, request: Request) -> str:
        """The key the request's CDN token was issued to; 401 for a bad or old token."""
        scheme, token = split_authorization(request.headers.get("authorization", ""))
        claims = self._opened(token) if scheme == "bearer" else None
        until, owner = (claims["until"], claims["key"]) if claims else (0.0, "")
        accepted = self.engine.config.api_keys
        if until < time.time() or (accepted is not None and owner not in accepted):
            raise FalError.detail(
                401, "Invalid or expired CDN token; get one from storage/auth/token"
            )
        return owner

    async def upload(self, request: Request) -> Response:
        """``POST /files/upload``: the body is the file."""
        owner = self._check_token(request)
        content_type = request.headers.get("content-type", "application/octet-stream")
        data = await read_body(request.scope, request.receive, self.storage.max_file_bytes)
        name = request.headers.get("x-fal-file-name") or _default_name(content_type)
        try:
            # off the event loop: it may write a large file, or wait out a store error
            stored = await run_in_threadpool(
                functools.partial(self.storage.put, data, content_type, name, owner=owner)
            )
        except StorageError as error:
            raise _storage_error(error) from None
        return json_response({"access_url": content_url(self.cdn_base(request), stored)})

    def start_multipart(self, request: Request) -> Response:
        owner = self._check_token(request)
        content_type = request.headers.get("content-type", "application/octet-stream")
        name = safe_name(request.headers.get("x-fal-file-name") or _default_name(content_type))
        upload_id = self.storage.start_multipart(name, content_type, owner)
        url = file_url(self.cdn_base(request), upload_id, name)
        return json_response({"access_url": url, "uploadId": upload_id})

    async def multipart(self, request: Request, path: UploadPath) -> Response:
        """A part (PUT .../multipart/{id}/{n}) or the end (POST .../multipart/{id}/complete)."""
        if path.multipart_id != path.file_id:
            raise FalError.detail(404, "Unknown multipart upload")
        try:
            if path.part == "complete":
                return await self._complete(request, path)
            data = await read_body(request.scope, request.receive, self.storage.max_file_bytes)
            number = int(path.part or 0)
            etag = await run_in_threadpool(self.storage.put_part, path.multipart_id, number, data)
        except StorageError as error:
            raise _storage_error(error) from None
        return json_response(
            {"partNumber": int(path.part or 0), "etag": etag}, headers={"ETag": etag}
        )

    async def _complete(self, request: Request, path: UploadPath) -> Response:
        body = await read_json(request.scope, request.receive, max_bytes=1024 * 1024, max_depth=4)
        parts = body.get("parts") if isinstance(body, dict) else None
        if not isinstance(parts, list) or not all(_is_part(p) for p in parts):
            raise FalError.detail(422, 'Expected {"parts": [{"partNumber": n, "etag": "..."}]}')
        listed = [(p["partNumber"], p["etag"]) for p in parts]
        # hashing and joining up to a whole file's bytes: in a worker thread
        stored = await run_in_threadpool(
            self.storage.complete_multipart, path.multipart_id or "", listed
        )
        return json_response({"access_url": content_url(self.cdn_base(request), stored)})

    async def put(self, request: Request, path: UploadPath) -> Response:
        """The second step of an ``initiate`` upload."""
        try:
            stored = await receive_reserved(request, self.storage, path.file_id)
        except StorageError as error:
            raise _storage_error(error) from None
        return json_response({"access_url": content_url(self.cdn_base(request), stored)})


def _is_part(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and type(part.get("partNumber")) is int
        and isinstance(part.get("etag"), str)
    )
