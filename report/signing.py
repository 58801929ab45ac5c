"""An HMAC-SHA256 signature of ``manifest.json`` with a key from the environment.

Without a key a manifest proves only that the files agree with one another: anyone who changes a
file can recompute its hash and write a new manifest. With ``ONECLICK_MANIFEST_KEY`` set, ``build``
signs the manifest (the signature covers every field, hence the hashes of the PDF, of every other
output, of the attached manifest and of the inputs), and ``verify`` and ``send`` refuse a manifest
that is unsigned or whose signature does not match: only a holder of the key can make one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

__all__ = ["KEY_VARIABLE", "MIN_KEY_BYTES", "check_signature", "key_from_env", "sign_manifest"]

KEY_VARIABLE = "ONECLICK_MANIFEST_KEY"
#: A shorter key is refused (128 bits).
MIN_KEY_BYTES = 16
ALGORITHM = "HMAC-SHA256"
SIGNATURE = "signature"


def key_from_env(environ: Mapping[str, str]) -> bytes | None:
    """The signing key from ``ONECLICK_MANIFEST_KEY`` (its UTF-8 bytes), ``None`` when unset or empty.

    Raises
    ------
    ValueError
        When the key is shorter than :data:`MIN_KEY_BYTES` bytes (the key itself is never shown).
    """
    value = environ.get(KEY_VARIABLE, "")
    if not value:
        return None
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{KEY_VARIABLE} is {len(key)} bytes long; a signing key needs at least {MIN_KEY_BYTES}")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"oneclick-report key id\0" + key).hexdigest()[:16]


def _signed_bytes(manifest: Mapping[str, object]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != SIGNATURE}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_manifest(manifest: Mapping[str, object], key: bytes) -> dict[str, object]:
    """``manifest`` with a ``signature`` field: algorithm, key id and HMAC of every other field."""
    value = hmac.new(key, _signed_bytes(manifest), hashlib.sha256).hexdigest()
    return {**manifest, SIGNATURE: {"algorithm": ALGORITHM, "key_id": _key_id(key), "value": value}}


def check_signature(manifest: Mapping[str, object], key: bytes | None) -> tuple[bool, str]:
    """``(ok, detail)`` of the manifest's signature.

    With a key, the manifest must be signed with it. Without one, nothing can be checked: an
    unsigned manifest passes (it never proved authorship), a signed one is reported as not checked.
    """
    signature = manifest.get(SIGNATURE)
    if signature is None:
        if key is not None:
            return False, f"the manifest is not signed, but {KEY_VARIABLE} is set: refusing an unsigned manifest"
        return True, ("unsigned: the hashes show that the files agree with each other, not who made them "
                      f"(set {KEY_VARIABLE} when building to sign)")
    if not (isinstance(signature, dict) and signature.get("algorithm") == ALGORITHM
            and isinstance(signature.get("value"), str) and isinstance(signature.get("key_id"), str)):
        return False, f"malformed signature (expected {ALGORITHM} with key_id and value)"
    if key is None:
        return True, f"signed ({ALGORITHM}, key id {signature['key_id']}) but not checked: {KEY_VARIABLE} is not set"
    if signature["key_id"] != _key_id(key):
        return False, f"signed with another key (key id {signature['key_id']}, not {_key_id(key)})"
    expected = hmac.new(key, _signed_bytes(manifest), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature["value"]):
        return False, "signature mismatch: the manifest was changed after it was signed"
    return True, f"{ALGORITHM} signature matches (key id {signature['key_id']})"
