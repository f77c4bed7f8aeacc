"""The Kubernetes base in deploy/k8s: it parses, and it agrees with the code it runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.keys import SECRETS
from schoolgate_kit.settings import Environment

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
EXAMPLE_SECRET = K8S / "secret.example.yaml"
SECRET_NAME = "schoolgate-secrets"
CONFIG_NAME = "schoolgate-config"
IDENTITY = "SCHOOLGATE_IDENTITY_SECRET"
HTTP_PORT = 8000
EXPECTED_DEPLOYMENTS = {
    "gateway",
    "gateway-worker",
    "points",
    "points-worker",
    "roster",
    "roster-worker",
    "consent",
    "consent-worker",
    "stories",
    "stories-worker",
    "messaging",
    "messaging-worker",
    "notifications",
    "notifications-worker",
    "relay",
}
EXPECTED_HTTP = {"gateway", "points", "roster", "consent", "stories", "messaging", "notifications"}

Doc = dict[str, Any]


@cache
def load(path: Path) -> tuple[Doc, ...]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for doc in docs:
        assert isinstance(doc, dict), f"{path.name}: a document is not a mapping"
    return tuple(docs)


def yaml_files() -> list[Path]:
    return sorted([*K8S.glob("*.yaml"), *K8S.glob("*.yml")])


@cache
def kustomization() -> Doc:
    (doc,) = load(KUSTOMIZATION)
    return doc


def resource_files() -> list[Path]:
    return [K8S / name for name in kustomization().get("resources", [])]


def resources() -> list[Doc]:
    return [doc for path in resource_files() for doc in load(path)]


def of_kind(kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in resources() if d["kind"] == kind}


def deployments() -> dict[str, Doc]:
    return of_kind("Deployment")


def containers(deployment: Doc) -> list[Doc]:
    spec = deployment["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def argv(container: Doc) -> list[str]:
    return [str(a) for a in (*container.get("command", []), *container.get("args", []))]


def is_http(deployment: Doc) -> bool:
    return any("serve" in argv(c) for c in containers(deployment))


def http_deployments() -> dict[str, Doc]:
    return {name: d for name, d in deployments().items() if is_http(d)}


def module_main(module: str) -> list[Path]:
    """Every ``<module>/__main__.py`` under a workspace member's src/."""
    relative = Path(*module.split(".")) / "__main__.py"
    return [
        *REPO.glob(f"*/src/{relative.as_posix()}"),
        *REPO.glob(f"services/*/src/{relative.as_posix()}"),
    ]


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector applied to one set of labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not ok:
            return False
    return True


def pod_labels(name: str) -> dict[str, str]:
    labels: dict[str, str] = deployments()[name]["spec"]["template"]["metadata"]["labels"]
    return labels


def walk(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) pair of every mapping, and every list item as (None, item)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield None, item
            yield from walk(item)


# --- structure -------------------------------------------------------------------------


def test_the_base_has_manifests() -> None:
    assert KUSTOMIZATION.is_file()
    assert len(yaml_files()) > 2


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: p.name)
def test_every_yaml_parses_into_kubernetes_objects(path: Path) -> None:
    docs = load(path)
    assert docs, f"{path.name} is empty"
    for doc in docs:
        assert doc.get("apiVersion") and doc.get("kind"), f"{path.name}: {doc!r:.80}"
        if path != KUSTOMIZATION:
            assert doc.get("metadata", {}).get("name"), f"{path.name}: a {doc['kind']} has no name"


def test_every_resource_in_the_kustomization_exists() -> None:
    listed = kustomization().get("resources", [])
    assert listed, "kustomization.yaml lists no resources"
    missing = [name for name in listed if not (K8S / name).is_file()]
    assert not missing, f"kustomization.yaml lists missing files: {missing}"


def test_every_manifest_but_the_example_secret_is_in_the_kustomization() -> None:
    listed = {(K8S / name).resolve() for name in kustomization().get("resources", [])}
    unlisted = [
        p.name
        for p in yaml_files()
        if p not in (KUSTOMIZATION, EXAMPLE_SECRET) and p.resolve() not in listed
    ]
    assert not unlisted, f"manifests kustomize would never apply: {unlisted}"
    assert EXAMPLE_SECRET.is_file()
    assert EXAMPLE_SECRET.resolve() not in listed, "the example secret must not be deployed"


def test_the_expected_deployments_exist() -> None:
    assert set(deployments()) == EXPECTED_DEPLOYMENTS
    assert set(http_deployments()) == EXPECTED_HTTP


# --- what the containers run -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_DEPLOYMENTS))
def test_every_container_runs_a_real_module(name: str) -> None:
    for container in containers(deployments()[name]):
        command = argv(container)
        assert container["image"].split(":")[0].endswith("schoolgate"), container["image"]
        assert command[:2] == ["python", "-m"], f"{name}: {command}"
        module = command[2]
        assert module_main(module), f"{name}: no {module}/__main__.py under */src/"


def test_the_readme_commands_name_real_modules_projections_and_queues() -> None:
    from schoolgate_contracts.topology import QUEUES
    from schoolgate_points.projections import PROJECTIONS

    readme = (K8S / "README.md").read_text(encoding="utf-8")
    modules = set(re.findall(r"python -m ([\w.]+)", readme))
    assert modules, "README.md shows no commands"
    for module in modules:
        assert module_main(module), f"README.md runs {module}, which has no __main__.py"
    projections = {p.name for p in PROJECTIONS}
    for projection in re.findall(r"schoolgate_points rebuild ([\w.]+)", readme):
        assert projection in projections, f"README.md rebuilds unknown {projection}"
    for queue in re.findall(r"dead-letters (?:list|replay) ([\w.]+)", readme):
        assert queue in {q.name for q in QUEUES}, f"README.md names unknown queue {queue}"
    assert "kubectl apply -k deploy/k8s" in readme


# --- HTTP deployments ------------------------------------------------------------------


def container_port(container: Doc, port: int | str) -> int:
    if isinstance(port, int):
        return port
    (found,) = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    return int(found)


@pytest.mark.parametrize("name", sorted(EXPECTED_HTTP))
def test_http_deployments_have_probes_and_scrape_annotations(name: str) -> None:
    deployment = http_deployments()[name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container.get(probe, {}).get("httpGet")
        assert get, f"{name} has no HTTP {probe}"
        assert get["path"] == path, f"{name}: {probe} on {get['path']}"
        assert container_port(container, get["port"]) == HTTP_PORT
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true"
    assert annotations.get("prometheus.io/port") == str(HTTP_PORT)
    assert annotations.get("prometheus.io/path") == "/metrics"
    assert f"--port {HTTP_PORT}" in " ".join(argv(container))


@pytest.mark.parametrize("name", sorted(EXPECTED_HTTP))
def test_http_deployments_have_a_service_a_budget_and_an_autoscaler(name: str) -> None:
    labels = pod_labels(name)
    service = of_kind("Service")[name]
    assert selects({"matchLabels": service["spec"]["selector"]}, labels)
    assert [p["port"] for p in service["spec"]["ports"]] == [HTTP_PORT]
    budget = of_kind("PodDisruptionBudget")[name]
    assert selects(budget["spec"]["selector"], labels)
    autoscaler = of_kind("HorizontalPodAutoscaler")[name]
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", name)
    assert 2 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]


def test_the_gateway_calls_points_through_its_service() -> None:
    (container,) = deployments()["gateway"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env.get("SCHOOLGATE_POINTS_URL") == f"http://points:{HTTP_PORT}"


# --- singletons ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relay", "points-worker"])
def test_singletons_run_once_and_never_overlap(name: str) -> None:
    spec = deployments()[name]["spec"]
    assert spec.get("replicas") == 1
    assert spec.get("strategy", {}).get("type") == "Recreate"
    scaled = [
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind("HorizontalPodAutoscaler").values()
    ]
    assert name not in scaled


# --- security --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_DEPLOYMENTS))
def test_every_pod_is_locked_down(name: str) -> None:
    pod = deployments()[name]["spec"]["template"]["spec"]
    empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in containers(deployments()[name]):
        security = container.get("securityContext", {})
        non_root = security.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot"))
        assert non_root is True, f"{name}: runAsNonRoot"
        assert security.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem"
        assert security.get("allowPrivilegeEscalation") is False, f"{name}: privilege escalation"
        assert security.get("privileged", False) is False
        assert "ALL" in security.get("capabilities", {}).get("drop", []), f"{name}: capabilities"
        tmp = [m["name"] for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert tmp and tmp[0] in empty_dirs, f"{name}: /tmp is not an emptyDir"
        for kind in ("requests", "limits"):
            amounts = container.get("resources", {}).get(kind, {})
            assert {"cpu", "memory"} <= set(amounts), f"{name}: resources.{kind}"


# --- configuration and secrets ---------------------------------------------------------


def test_no_deployed_manifest_holds_a_secret() -> None:
    assert not of_kind("Secret"), "Secrets are created by IT, never shipped in the base"
    assert "secretGenerator" not in kustomization()
    for path in resource_files():
        for key, value in walk(list(load(path))):
            assert key != IDENTITY, f"{path.name} sets {IDENTITY} itself"
            if isinstance(value, dict) and value.get("name") == IDENTITY:
                ref = value.get("valueFrom", {}).get("secretKeyRef", {})
                assert "value" not in value and ref.get("name") == SECRET_NAME, path.name


def test_the_example_secret_holds_only_placeholders() -> None:
    (secret,) = load(EXAMPLE_SECRET)
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == SECRET_NAME
    assert "data" not in secret
    values = secret["stringData"]
    assert IDENTITY in values
    assert {s.variable for s in SECRETS} <= set(values), "a secret the code reads is missing"
    for key, value in values.items():
        assert "CHANGE-ME" in value, f"secret.example.yaml: {key} looks like a real value"


@pytest.mark.parametrize("name", sorted(EXPECTED_DEPLOYMENTS))
def test_every_container_gets_the_config_then_the_secret(name: str) -> None:
    for container in containers(deployments()[name]):
        sources = [
            ("config", s["configMapRef"]["name"])
            if "configMapRef" in s
            else ("secret", s["secretRef"]["name"])
            for s in container.get("envFrom", [])
        ]
        # The Secret comes last so that its URLs with credentials override the ConfigMap's.
        assert sources == [("config", CONFIG_NAME), ("secret", SECRET_NAME)], f"{name}: {sources}"


def config() -> dict[str, str]:
    data: dict[str, str] = of_kind("ConfigMap")[CONFIG_NAME]["data"]
    return data


def test_the_config_holds_no_credentials() -> None:
    for key, value in config().items():
        assert isinstance(value, str), f"ConfigMap values must be strings: {key}"
        assert not re.search(r"://[^/?#]*@", value), f"{key} carries credentials"


def test_the_config_is_production_settings_that_need_the_identity_secret(
    tmp_path: Path,
) -> None:
    """A process started with the config alone refuses to start, saying what it lacks; with
    the secret it reads production settings for the cluster's stores."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    env |= {**config(), "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    refused = subprocess.run(
        [sys.executable, "-m", "schoolgate_points", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and refused.stderr.startswith(IDENTITY), refused.stderr
    settings = GatewaySettings(
        **{k.removeprefix("SCHOOLGATE_").lower(): v for k, v in config().items()},
        identity_secret="a-test-secret-given-as-the-deployment-would",
    )
    assert settings.environment is Environment.production
    assert settings.event_store_location().startswith("kurrentdb://")
    assert settings.read_model_location().startswith("mongodb://")
    assert settings.bus_url.startswith("amqp://")


# --- network ---------------------------------------------------------------------------


def test_ingress_is_denied_unless_allowed() -> None:
    policies = of_kind("NetworkPolicy").values()
    assert any(
        p["spec"]["podSelector"] == {}
        and "Ingress" in p["spec"].get("policyTypes", [])
        and not p["spec"].get("ingress")
        for p in policies
    ), "no default-deny ingress policy"


def test_services_take_traffic_only_from_the_gateway_and_prometheus() -> None:
    gateway = pod_labels("gateway")
    others = [pod_labels(n) for n in sorted(EXPECTED_DEPLOYMENTS - {"gateway"})]
    for name in sorted(EXPECTED_HTTP - {"gateway"}):
        labels = pod_labels(name)
        applying = [
            p
            for p in of_kind("NetworkPolicy").values()
            if selects(p["spec"]["podSelector"], labels)
        ]
        assert any(p["spec"].get("ingress") for p in applying), f"{name}: nothing lets in"
        for policy in applying:
            for rule in policy["spec"].get("ingress", []):
                peers = rule.get("from")
                assert peers, f"{policy['metadata']['name']} lets anyone reach {name}"
                for peer in peers:
                    pods = peer.get("podSelector")
                    from_gateway = (
                        pods is not None
                        and "namespaceSelector" not in peer
                        and selects(pods, gateway)
                        and not any(selects(pods, other) for other in others)
                    )
                    namespace = peer.get("namespaceSelector", {}).get("matchLabels", {})
                    from_prometheus = (
                        namespace.get("kubernetes.io/metadata.name") == "monitoring"
                        and "podSelector" in peer
                    )
                    assert from_gateway or from_prometheus, f"{name} reachable from {peer}"
