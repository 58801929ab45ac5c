"""Verify a built report against its manifests: has anything been changed since the build?

A build (:mod:`report.build`) writes ``manifest.json`` beside the outputs — SHA-256 of every input
and output, the PDF included, and of the manifest embedded in the PDF — and attaches
``results.json``, ``scores.csv``, ``actions.csv`` and that embedded manifest to the PDF. A data file
larger than ``report.attach_max_bytes`` is left out of the PDF; both manifests then say which files
are ``embedded`` and which are ``left_out`` (name → bytes), and the file left out is checked beside
the PDF instead. :func:`verify_report` recomputes every hash it can and reports each comparison as
a :class:`Check`; it never raises on a damaged report (a PDF that cannot be parsed is a failed
check, not a crash).

``python -m report.verify REPORT.pdf [--data DIR]`` prints the checks and exits 0 when all pass,
1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from report.signing import check_signature

__all__ = ["ATTACHED_OUTPUTS", "Check", "VerifyResult", "load_manifest_file", "verify_report", "main"]

#: Outputs that a build attaches to the PDF (besides the embedded ``manifest.json``), unless its
#: manifests record one of the data files as ``left_out``; ``results.json`` always is.
ATTACHED_OUTPUTS: tuple[str, ...] = ("results.json", "scores.csv", "actions.csv")
#: Attached whatever its size.
ALWAYS_ATTACHED: tuple[str, ...] = ("results.json", "manifest.json")
MANIFEST = "manifest.json"
#: An attachment that decompresses to more than this is not hashed (a flate bomb of a few MB can
#: expand to gigabytes); the largest real one, scores.csv at a million customers, is ~60 MB.
MAX_ATTACHMENT_BYTES = 1 << 30
#: The attached manifest is read into memory; a real one is ~10 KB.
MAX_MANIFEST_BYTES = 16 << 20
#: A ``manifest.json`` object as :func:`json.loads` returns it (its shape checked by ``_load_manifest``).
Manifest = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step.

    Attributes
    ----------
    name : str
        What was checked, e.g. ``pdf_sha256``, ``attachment:results.json``, ``input:money.csv``.
    ok : bool
        Whether it passed.
    detail : str
        What was found (the reason, when it failed).
    """

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of :func:`verify_report`.

    Attributes
    ----------
    ok : bool
        ``True`` when every check passed.
    checks : tuple of Check
        Every check, in the order made.
    """

    ok: bool
    checks: tuple[Check, ...]

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if not c.ok)

    def check(self, name: str) -> Check:
        """The check called ``name``.

        Raises
        ------
        KeyError
            When no check has that name.
        """
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def summary(self) -> str:
        """One line per check: ``OK``/``FAIL``, name and detail."""
        return "\n".join(f"{'OK  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in self.checks)


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _hash_check(name: str, *, expected: object, actual: str) -> Check:
    if not isinstance(expected, str):
        return Check(name, False, "no SHA-256 recorded")
    if expected == actual:
        return Check(name, True, f"sha256 {actual[:16]}… matches")
    return Check(name, False, f"sha256 mismatch: recorded {expected[:16]}…, found {actual[:16]}…")


def _plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and "/" not in name and "\\" not in name


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _load_manifest(data: bytes, *, where: str) -> tuple[Manifest | None, str]:
    """The manifest when it has the shape a build writes; else ``None`` and what is wrong."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return None, f"{where} is not valid JSON: {exc}"
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict):
        return None, f"{where} has no 'outputs' table"
    for table in ("outputs", "inputs", "attached"):
        value = manifest.get(table, {})
        if not isinstance(value, dict):
            return None, f"{where} has a malformed {table!r} table (a {type(value).__name__}, not a table)"
        bad = [name for name, sha in value.items() if not _is_sha256(sha)]
        if bad:
            return None, f"{where}: {table!r} records no SHA-256 for {', '.join(map(repr, bad[:5]))}"
    embedded = manifest.get("embedded_manifest_sha256")
    if embedded is not None and not _is_sha256(embedded):
        return None, f"{where} has a malformed 'embedded_manifest_sha256'"
    problem = _embedding_problem(manifest)
    if problem is not None:
        return None, f"{where}: {problem}"
    return manifest, f"{where} parsed ({len(manifest['outputs'])} outputs recorded)"


def _embedding_problem(manifest: Manifest) -> str | None:
    """What is wrong with the manifest's ``embedded`` / ``left_out`` record (both absent: a build
    that embedded every data file), or ``None``."""
    if "embedded" not in manifest and "left_out" not in manifest:
        return None
    embedded, left_out = manifest.get("embedded"), manifest.get("left_out")
    if not isinstance(embedded, list) or not all(isinstance(n, str) and _plain_name(n) for n in embedded) \
            or len(set(embedded)) != len(embedded):
        return "'embedded' is not a list of distinct file names"
    if not isinstance(left_out, dict) or not all(
            isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in left_out.values()):
        return "'left_out' is not a table of file names and sizes in bytes"
    outputs = manifest["outputs"]
    both = sorted(set(embedded) & set(left_out))
    if both:
        return f"{', '.join(both)} recorded both as embedded and as left out"
    missing = [n for n in ALWAYS_ATTACHED if n not in embedded]
    if missing:
        return f"'embedded' lacks {', '.join(missing)}, which every report embeds"
    unknown = sorted(n for n in [*embedded, *left_out] if n != MANIFEST and n not in outputs)
    if unknown:
        return f"{', '.join(unknown)} recorded as embedded or left out but not among the outputs"
    unaccounted = [n for n in ATTACHED_OUTPUTS if n in outputs and n not in embedded and n not in left_out]
    if unaccounted:
        return f"{', '.join(unaccounted)} neither embedded nor recorded as left out"
    return None


def load_manifest_file(path: Path) -> Manifest:
    """``manifest.json`` of a report folder, checked for its shape.

    Raises
    ------
    ValueError
        When it is missing, unreadable or malformed (naming the file and what is wrong).
    """
    try:
        if Path(path).stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"{path} is larger than {MAX_MANIFEST_BYTES} bytes: not a manifest of a build")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    manifest, detail = _load_manifest(data, where=str(path))
    if manifest is None:
        raise ValueError(detail)
    return manifest


@dataclass(frozen=True, slots=True)
class _Attached:
    """One embedded file: its SHA-256 (hashed as a stream) or why it could not be read."""

    sha256: str | None
    size: int
    error: str | None = None
    data: bytes | None = None  # kept for the embedded manifest only
    alias_of: str | None = None  # found under its file specification's file name, listed under this key


def _stream_digest(stream: object, *, limit: int, keep: bool) -> _Attached:
    """SHA-256 of a PDF stream's decoded bytes, decompressed chunk by chunk: memory stays bounded
    whatever the stream expands to, and decoding stops past ``limit`` bytes."""
    import zlib

    import pikepdf

    filters = stream.get("/Filter")  # type: ignore[attr-defined]
    names = [] if filters is None else [str(f) for f in (filters if isinstance(filters, pikepdf.Array) else [filters])]
    params = stream.get("/DecodeParms")  # type: ignore[attr-defined]
    if names not in ([], ["/FlateDecode"]) or (params is not None and not (
            isinstance(params, pikepdf.Dictionary) and int(params.get("/Predictor", 1)) == 1)):
        return _Attached(None, 0, f"encoded with {names} {params!r}, which this check does not decode")
    raw = stream.read_raw_bytes()  # type: ignore[attr-defined] # compressed: no larger than the PDF itself
    digest, size, kept = hashlib.sha256(), 0, []
    chunk = 1 << 20
    pieces: Iterator[bytes]
    if not names:
        pieces = (raw[i:i + chunk] for i in range(0, len(raw), chunk))
    else:
        def inflate() -> Iterator[bytes]:  # the decoded chunks
            decoder = zlib.decompressobj()
            data = raw
            while data:
                out = decoder.decompress(data, chunk)
                yield out
                data = decoder.unconsumed_tail
                if decoder.eof:
                    return
            yield decoder.flush()
        pieces = inflate()
    try:
        for piece in pieces:
            size += len(piece)
            if size > limit:
                return _Attached(None, size, f"expands beyond {limit} bytes; not hashed")
            digest.update(piece)
            if keep:
                kept.append(piece)
    except zlib.error as exc:
        return _Attached(None, size, f"cannot be decompressed ({exc})")
    return _Attached(digest.hexdigest(), size, data=b"".join(kept) if keep else None)


def _read_attachments(pdf: Path, *, limit: int) -> tuple[dict[str, _Attached] | None, str, list[str]]:
    """Attachment name → hash, or ``None`` and the reason when the PDF cannot be read; and the
    active content found (JavaScript, launch actions, embedded files outside the attachment list).

    Names are the keys of the PDF's ``/EmbeddedFiles`` name tree (WeasyPrint uses the file name);
    when a file specification's own file name differs from its key, the file is found under
    the file name too, unless another attachment has that name.
    """
    import pikepdf

    try:
        with pikepdf.Pdf.open(pdf) as doc:
            found: dict[str, _Attached] = {}
            aliases: dict[str, _Attached] = {}
            listed_streams: set[tuple[int, int]] = set()
            for key, spec in doc.attachments.items():
                files = spec.obj.get("/EF")
                stream = files.get("/F") if isinstance(files, pikepdf.Dictionary) else None
                if not isinstance(stream, pikepdf.Stream):
                    found[str(key)] = _Attached(None, 0, "has no embedded file stream")
                    continue
                listed_streams.add(stream.objgen)
                attached = _stream_digest(stream, limit=MAX_MANIFEST_BYTES if str(key) == MANIFEST else limit,
                                          keep=str(key) == MANIFEST)
                found[str(key)] = attached
                if spec.filename and str(spec.filename) != str(key):
                    aliases[str(spec.filename)] = replace(attached, alias_of=str(key))
            active = _active_content(doc, listed_streams)
            listed = ", ".join(sorted(found)) or "none"
            return {**aliases, **found}, f"{len(doc.pages)} page(s), attachments: {listed}", active
    except Exception as exc:  # noqa: BLE001 - any parser failure is a failed check, never a crash
        return None, f"cannot read the PDF ({type(exc).__name__}: {exc})", []


#: Actions PDF/A forbids (ISO 19005-3, 6.6.1): they run code, launch programs or fetch and change things.
_FORBIDDEN_ACTIONS = frozenset({"/JavaScript", "/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData",
                                "/SubmitForm", "/Hide", "/Rendition", "/SetOCGState", "/Trans", "/GoTo3DView",
                                "/RichMediaExecute", "/GoToE"})
_ALLOWED_NAMED = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
_FORBIDDEN_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/3D", "/RichMedia", "/Widget"})


def _active_content(doc: object, listed_streams: set[tuple[int, int]]) -> list[str]:
    """What a report must not carry: JavaScript, actions that run or launch anything, additional
    actions, forms, and embedded files besides the attachments listed in ``/EmbeddedFiles``."""
    import pikepdf

    found: list[str] = []
    seen: set[int] = set()

    def visit(obj: object, where: str) -> None:
        if isinstance(obj, pikepdf.Array):
            for item in obj:
                if isinstance(item, (pikepdf.Dictionary, pikepdf.Array)) and not item.is_indirect:
                    visit(item, where)
            return
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)) or id(obj) in seen:
            return
        action = obj.get("/S")
        if isinstance(action, pikepdf.Name):
            if str(action) in _FORBIDDEN_ACTIONS:
                found.append(f"a {str(action)[1:]} action ({where})")
            elif str(action) == "/Named" and str(obj.get("/N", "")) not in _ALLOWED_NAMED:
                found.append(f"a named action {obj.get('/N')} ({where})")
        for key, what in (("/JS", "JavaScript"), ("/AA", "additional (event) actions"), ("/XFA", "an XFA form")):
            if key in obj:
                found.append(f"{what} ({where})")
        subtype = obj.get("/Subtype")
        is_annotation = str(obj.get("/Type", "")) == "/Annot" or ("/Rect" in obj and isinstance(subtype, pikepdf.Name))
        if is_annotation and str(subtype) in _FORBIDDEN_ANNOTATIONS:
            found.append(f"a {str(subtype)[1:]} annotation ({where})")
        if str(obj.get("/Type", "")) == "/EmbeddedFile" and isinstance(obj, pikepdf.Stream) \
                and obj.objgen not in listed_streams:
            found.append(f"an embedded file that is not among the attachments ({where})")
        for value in obj.values():
            if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect:
                visit(value, where)

    for obj in doc.objects:  # type: ignore[attr-defined] # every indirect object once; direct ones inside it
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            visit(obj, f"object {obj.objgen[0]}")
    names = doc.Root.get("/Names")  # type: ignore[attr-defined]
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        found.append("a document-level JavaScript name tree")
    if "/OpenAction" in doc.Root and not _is_goto(doc.Root.OpenAction):  # type: ignore[attr-defined]
        found.append("an OpenAction other than going to a page")
    if "/AcroForm" in doc.Root:  # type: ignore[attr-defined]
        found.append("an interactive form (AcroForm)")
    return list(dict.fromkeys(found))


def _is_goto(action: object) -> bool:
    import pikepdf

    if isinstance(action, pikepdf.Array):  # a destination: [page /XYZ …]
        return True
    return isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) == "/GoTo" and "/Next" not in action


def verify_report(pdf: Path, *, data_dir: Path | None = None, key: bytes | None = None,
                  max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> VerifyResult:
    """Check a built report against the manifest beside it and the one embedded in it.

    Parameters
    ----------
    pdf : Path
        The report PDF; ``manifest.json`` and the other outputs are expected beside it.
    data_dir : Path, optional
        The input tables: when given, each input recorded in the manifest must be there with the
        recorded SHA-256.
    key : bytes, optional
        The signing key (:mod:`report.signing`): the manifest must then be signed with it.
    max_attachment_bytes : int
        An attachment that decompresses to more bytes fails its check (it is hashed as a stream).

    Returns
    -------
    VerifyResult
        ``ok`` only when every check passed. Checks: ``manifest`` (beside the PDF, parses),
        ``pdf_sha256``, ``pdf_readable``, ``embedded_manifest`` (attached, parses),
        ``embedded_manifest_sha256``, ``embedded_outputs_agree`` (the embedded outputs are the
        outer ones minus the PDF), ``signature``, ``pdf_active_content`` (no JavaScript, launch or
        other forbidden actions, forms or unlisted embedded files), ``embedded_files_agree`` (both
        manifests record the same ``embedded`` and ``left_out`` files), ``attachment:<name>`` for
        ``results.json``, ``scores.csv``, ``actions.csv`` and any other file attached or recorded
        as embedded (a file recorded as left out must not be attached),
        ``output:<name>`` for every other recorded output present beside the PDF (absent ones are
        reported and not counted as failures, except a file left out of the PDF: beside it is its
        only copy), and with ``data_dir`` ``input:<name>`` per input.
    """
    pdf = Path(pdf)
    checks: list[Check] = []

    def done() -> VerifyResult:
        return VerifyResult(ok=bool(checks) and all(c.ok for c in checks), checks=tuple(checks))

    manifest_path = pdf.parent / MANIFEST
    if not manifest_path.is_file():
        checks.append(Check("manifest", False, f"{manifest_path} not found"))
        return done()
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        checks.append(Check("manifest", False, f"{manifest_path} is larger than {MAX_MANIFEST_BYTES} bytes"))
        return done()
    outer, detail = _load_manifest(manifest_path.read_bytes(), where=str(manifest_path))
    checks.append(Check("manifest", outer is not None, detail))
    if outer is None:
        return done()
    outputs: dict[str, str] = outer["outputs"]
    left_out: dict[str, int] = outer.get("left_out", {})
    checks.append(Check("signature", *check_signature(outer, key)))

    if not pdf.is_file():
        checks.append(Check("pdf_sha256", False, f"{pdf} not found"))
        return done()
    if pdf.name in outputs:
        checks.append(_hash_check("pdf_sha256", expected=outputs[pdf.name], actual=_sha256_file(pdf)))
    else:
        checks.append(Check("pdf_sha256", False, f"{pdf.name} is not among the manifest's outputs"))

    attachments, detail, active = _read_attachments(pdf, limit=max_attachment_bytes)
    checks.append(Check("pdf_readable", attachments is not None, detail))
    if attachments is not None:
        checks.append(Check("pdf_active_content", not active,
                            "none (no JavaScript, launch actions, forms or unlisted embedded files)" if not active
                            else "the PDF carries " + "; ".join(active[:10])
                            + (f" and {len(active) - 10} more" if len(active) > 10 else "")))
        checks.extend(_embedded_checks(attachments, outer, pdf_name=pdf.name))

    for name, expected in outputs.items():
        if name == pdf.name:
            continue
        if not _plain_name(name):
            checks.append(Check(f"output:{name}", False, "not a plain file name"))
            continue
        path = pdf.parent / name
        if path.is_file():
            checks.append(_hash_check(f"output:{name}", expected=expected, actual=_sha256_file(path)))
        elif name in left_out:  # its only copy: the PDF does not carry it
            checks.append(Check(f"output:{name}", False, "left out of the PDF and absent beside it: "
                                                         "its content cannot be checked"))
        else:
            checks.append(Check(f"output:{name}", True, "absent beside the PDF; not checked"))

    if data_dir is not None:
        inputs: dict[str, str] = outer.get("inputs", {})
        if not inputs:
            checks.append(Check("inputs", False, "the manifest records no inputs"))
        for name, expected in inputs.items():
            path = Path(data_dir) / name
            if not _plain_name(name):
                checks.append(Check(f"input:{name}", False, "not a plain file name"))
            elif not path.is_file():
                checks.append(Check(f"input:{name}", False, f"{name} is missing from {data_dir}"))
            else:
                check = _hash_check(f"input:{name}", expected=expected, actual=_sha256_file(path))
                if not check.ok:
                    check = Check(check.name, False, f"{name} differs from the file the report was built from: "
                                                     f"{check.detail}")
                checks.append(check)
    return done()


def _embedded_checks(attachments: dict[str, _Attached], outer: Manifest, *, pdf_name: str) -> list[Check]:
    """Checks of the embedded manifest and of the attached outputs."""
    checks: list[Check] = []
    outputs: dict[str, str] = outer["outputs"]
    embedded = attachments.get(MANIFEST)
    inner: Manifest | None = None
    if embedded is None:
        checks.append(Check("embedded_manifest", False, f"{MANIFEST} is not attached to the PDF"))
    elif embedded.data is None:
        checks.append(Check("embedded_manifest", False, f"the attached {MANIFEST} {embedded.error}"))
    else:
        inner, detail = _load_manifest(embedded.data, where=f"the attached {MANIFEST}")
        checks.append(Check("embedded_manifest", inner is not None, detail))
        checks.append(_hash_check("embedded_manifest_sha256", expected=outer.get("embedded_manifest_sha256"),
                                  actual=embedded.sha256 or ""))
    if inner is not None:
        # The PDF carries the results without the run's timings; the outer manifest records its hash.
        expected_inner = {k: v for k, v in outputs.items() if k != pdf_name} | dict(outer.get("attached", {}))
        if inner["outputs"] == expected_inner:
            checks.append(Check("embedded_outputs_agree", True,
                                "the embedded outputs are the outer ones minus the PDF"))
        else:
            differ = sorted(set(inner["outputs"]).symmetric_difference(expected_inner)
                            | {k for k in set(inner["outputs"]) & set(expected_inner)
                               if inner["outputs"][k] != expected_inner[k]})
            checks.append(Check("embedded_outputs_agree", False, f"embedded and outer manifests differ on {differ}"))
    recorded = inner["outputs"] if inner is not None else outputs
    source = "embedded" if inner is not None else "outer"
    # What the PDF must carry: the record of the embedded manifest (covered by the PDF's hash), else
    # the outer one's; a manifest without one (an older build) embedded every data file.
    record = inner if inner is not None else outer
    expected: list[str] | None = record.get("embedded")
    left_out: dict[str, int] = record.get("left_out", {})
    if inner is not None:
        agree = all(inner.get(k) == outer.get(k) for k in ("embedded", "left_out"))
        checks.append(Check("embedded_files_agree", agree,
                            "both manifests record the same embedded and left-out files" if agree else
                            "the embedded and outer manifests record different embedded or left-out files: "
                            f"embedded {inner.get('embedded')} / {outer.get('embedded')}, "
                            f"left out {inner.get('left_out')} / {outer.get('left_out')}"))
    aliased = {a.alias_of for n, a in attachments.items() if a.alias_of is not None and n in recorded}
    unlisted = [n for n, a in attachments.items() if a.alias_of is None and n not in recorded and n not in aliased]
    for name in dict.fromkeys((*ATTACHED_OUTPUTS, *(expected or ()), *(n for n in recorded if n in attachments),
                               *unlisted)):
        if name == MANIFEST:
            continue
        if name in left_out:
            if name in attachments:
                checks.append(Check(f"attachment:{name}", False, f"recorded as left out of the PDF "
                                    f"({left_out[name]} bytes) in the {source} manifest, but attached to it"))
            else:
                checks.append(Check(f"attachment:{name}", True, f"left out of the PDF ({left_out[name]} bytes, "
                                    f"above the attachment limit); checked beside it (output:{name})"))
        elif name not in recorded:
            checks.append(Check(f"attachment:{name}", False, f"attached but not recorded in the {source} manifest"))
        elif expected is not None and name not in expected:
            checks.append(Check(f"attachment:{name}", False, f"attached but not recorded as embedded in the "
                                                             f"{source} manifest"))
        elif (attached := attachments.get(name)) is None:
            checks.append(Check(f"attachment:{name}", False, "recorded but not attached to the PDF" if expected is None
                                else f"recorded as embedded in the {source} manifest but not attached to the PDF"))
        elif attached.sha256 is None:
            checks.append(Check(f"attachment:{name}", False, f"the attached file {attached.error}"))
        else:
            checks.append(_hash_check(f"attachment:{name}", expected=recorded[name], actual=attached.sha256))
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the checks; exit 0 when all pass, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m report.verify", description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path, help="the report PDF (manifest.json beside it)")
    parser.add_argument("--data", type=Path, default=None, help="the input tables, to check their hashes too")
    args = parser.parse_args(argv)
    import os

    from report.signing import key_from_env

    result = verify_report(args.pdf, data_dir=args.data, key=key_from_env(os.environ))
    print(result.summary())
    print("verified" if result.ok else f"NOT verified: {len(result.failures)} check(s) failed")
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
