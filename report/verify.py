"""Verify a built report against its manifests: has anything been changed since the build?

A build (:mod:`report.build`) writes ``manifest.json`` beside the outputs — SHA-256 of every input
and output, the PDF included, and of the manifest embedded in the PDF — and attaches
``results.json``, ``scores.csv`` and that embedded manifest to the PDF. :func:`verify_report`
recomputes every hash it can and reports each comparison as a :class:`Check`; it never raises on
a damaged report (a PDF that cannot be parsed is a failed check, not a crash).

``python -m report.verify REPORT.pdf [--data DIR]`` prints the checks and exits 0 when all pass,
1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from report.build import sha256_bytes

__all__ = ["ATTACHED_OUTPUTS", "Check", "VerifyResult", "verify_report", "main"]

#: Outputs that a build attaches to the PDF (besides the embedded ``manifest.json``).
ATTACHED_OUTPUTS: tuple[str, ...] = ("results.json", "scores.csv", "actions.csv")
MANIFEST = "manifest.json"


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


def _load_manifest(data: bytes, *, where: str) -> tuple[dict | None, str]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{where} is not valid JSON: {exc}"
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict):
        return None, f"{where} has no 'outputs' table"
    if not isinstance(manifest.get("inputs", {}), dict):
        return None, f"{where} has a malformed 'inputs' table"
    return manifest, f"{where} parsed ({len(manifest['outputs'])} outputs recorded)"


def _read_attachments(pdf: Path) -> tuple[dict[str, bytes] | None, str]:
    """Attachment name → bytes, or ``None`` and the reason when the PDF cannot be read.

    Names are the keys of the PDF's ``/EmbeddedFiles`` name tree (WeasyPrint uses the file name);
    when a file specification's own file name differs from its key, the bytes are found under
    the file name too, unless another attachment has that name.
    """
    import pikepdf

    try:
        with pikepdf.Pdf.open(pdf) as doc:
            found: dict[str, bytes] = {}
            aliases: dict[str, bytes] = {}
            for key, spec in doc.attachments.items():
                data = spec.get_file().read_bytes()
                found[str(key)] = data
                if spec.filename and str(spec.filename) != str(key):
                    aliases[str(spec.filename)] = data
            listed = ", ".join(sorted(found)) or "none"
            return {**aliases, **found}, f"{len(doc.pages)} page(s), attachments: {listed}"
    except Exception as exc:  # noqa: BLE001 - any parser failure is a failed check, never a crash
        return None, f"cannot read the PDF ({type(exc).__name__}: {exc})"


def verify_report(pdf: Path, *, data_dir: Path | None = None) -> VerifyResult:
    """Check a built report against the manifest beside it and the one embedded in it.

    Parameters
    ----------
    pdf : Path
        The report PDF; ``manifest.json`` and the other outputs are expected beside it.
    data_dir : Path, optional
        The input tables: when given, each input recorded in the manifest must be there with the
        recorded SHA-256.

    Returns
    -------
    VerifyResult
        ``ok`` only when every check passed. Checks: ``manifest`` (beside the PDF, parses),
        ``pdf_sha256``, ``pdf_readable``, ``embedded_manifest`` (attached, parses),
        ``embedded_manifest_sha256``, ``embedded_outputs_agree`` (the embedded outputs are the
        outer ones minus the PDF), ``attachment:<name>`` for ``results.json`` and ``scores.csv``,
        ``output:<name>`` for every other recorded output present beside the PDF (absent ones are
        reported and not counted as failures), and with ``data_dir`` ``input:<name>`` per input.
    """
    pdf = Path(pdf)
    checks: list[Check] = []

    def done() -> VerifyResult:
        return VerifyResult(ok=bool(checks) and all(c.ok for c in checks), checks=tuple(checks))

    manifest_path = pdf.parent / MANIFEST
    if not manifest_path.is_file():
        checks.append(Check("manifest", False, f"{manifest_path} not found"))
        return done()
    outer, detail = _load_manifest(manifest_path.read_bytes(), where=str(manifest_path))
    checks.append(Check("manifest", outer is not None, detail))
    if outer is None:
        return done()
    outputs: dict = outer["outputs"]

    if not pdf.is_file():
        checks.append(Check("pdf_sha256", False, f"{pdf} not found"))
        return done()
    if pdf.name in outputs:
        checks.append(_hash_check("pdf_sha256", expected=outputs[pdf.name], actual=_sha256_file(pdf)))
    else:
        checks.append(Check("pdf_sha256", False, f"{pdf.name} is not among the manifest's outputs"))

    attachments, detail = _read_attachments(pdf)
    checks.append(Check("pdf_readable", attachments is not None, detail))
    if attachments is not None:
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
        else:
            checks.append(Check(f"output:{name}", True, "absent beside the PDF; not checked"))

    if data_dir is not None:
        inputs: dict = outer.get("inputs", {})
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


def _embedded_checks(attachments: dict[str, bytes], outer: dict, *, pdf_name: str) -> list[Check]:
    """Checks of the embedded manifest and of the attached outputs."""
    checks: list[Check] = []
    outputs: dict = outer["outputs"]
    embedded_bytes = attachments.get(MANIFEST)
    inner: dict | None = None
    if embedded_bytes is None:
        checks.append(Check("embedded_manifest", False, f"{MANIFEST} is not attached to the PDF"))
    else:
        inner, detail = _load_manifest(embedded_bytes, where=f"the attached {MANIFEST}")
        checks.append(Check("embedded_manifest", inner is not None, detail))
        checks.append(_hash_check("embedded_manifest_sha256", expected=outer.get("embedded_manifest_sha256"),
                                  actual=sha256_bytes(embedded_bytes)))
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
    for name in dict.fromkeys((*ATTACHED_OUTPUTS, *(n for n in recorded if n in attachments))):
        if name == MANIFEST:
            continue
        if name not in recorded:
            checks.append(Check(f"attachment:{name}", False, f"not recorded in the {source} manifest"))
        elif name not in attachments:
            checks.append(Check(f"attachment:{name}", False, "recorded but not attached to the PDF"))
        else:
            checks.append(_hash_check(f"attachment:{name}", expected=recorded[name],
                                      actual=sha256_bytes(attachments[name])))
    return checks


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the checks; exit 0 when all pass, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m report.verify", description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path, help="the report PDF (manifest.json beside it)")
    parser.add_argument("--data", type=Path, default=None, help="the input tables, to check their hashes too")
    args = parser.parse_args(argv)
    result = verify_report(args.pdf, data_dir=args.data)
    print(result.summary())
    print("verified" if result.ok else f"NOT verified: {len(result.failures)} check(s) failed")
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
