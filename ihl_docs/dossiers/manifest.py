"""The dossier's manifest: the evidence it lists by hash, the case fingerprint, the renderer versions."""

from ihl_docs.dossiers import render

MANIFEST_FORMAT = "ihl_docs dossier manifest 1"


def make_manifest(content: dict, case_fingerprint: str) -> dict:
    """What the dossier lists and what made it, attached to the PDF as manifest.json."""
    return {
        "format": MANIFEST_FORMAT,
        "case": content["case"]["ref"],
        "audience": content["audience"],
        "prepared_by": content["prepared_by"],
        "case_fingerprint": case_fingerprint,
        "content_file": "content.json",
        "evidence": [{"ref": e["ref"], "sha256": e["sha256"], "size": e["size"],
                      "kind": e["kind"], "shown": "described" if e.get("described_only") else "full"}
                     for e in content["evidence"]],
        "withheld_count": content["withheld_count"],
        "renderer": render.renderer_versions(),
    }
