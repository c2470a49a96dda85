"""deploy/*.yaml are valid Kubernetes objects (Kubernetes' own schemas, strict: unknown
fields refused), and the configuration they carry is a valid idsvc configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import kubernetes_validate
import msgspec
import pytest
import yaml

from idsvc.settings import ConfigFile

DEPLOY = Path(__file__).parents[1] / "deploy"
KUBERNETES = "1.30.0"
DOCUMENTS = [
    (path.name, document)
    for path in sorted(DEPLOY.glob("*.yaml"))
    for document in yaml.safe_load_all(path.read_text())
    if document
]


@pytest.mark.parametrize(
    "document", [d for _, d in DOCUMENTS], ids=[f"{n}:{d['kind']}" for n, d in DOCUMENTS]
)
def test_each_object_is_valid_for_kubernetes(document: dict[str, object]) -> None:
    kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_the_manifests_carry_what_a_deployment_needs() -> None:
    kinds = {d["kind"] for _, d in DOCUMENTS}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Job", "ConfigMap"} <= kinds
    deployment = next(d for _, d in DOCUMENTS if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_configuration_they_carry_is_a_valid_idsvc_configuration() -> None:
    config_map = next(d for _, d in DOCUMENTS if d["kind"] == "ConfigMap")
    config = msgspec.convert(tomllib.loads(config_map["data"]["idsvc.toml"]), ConfigFile)
    assert config.service.issuer.startswith("https://")
    assert config.service.cookie_secure
    assert not config.service.migrate_on_start  # the Job migrates, once
