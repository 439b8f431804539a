"""The deployment artefacts under deploy/ and the Dockerfile, checked against what the code
really is: linted, validated against the Kubernetes schemas, and cross-checked with the config,
the key names and the metric families they rely on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bananas.config import load_config
from bananas.keys import QueueKeys
from bananas.lanes import PRIORITIES
from bananas.metrics.families import FAMILIES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"


def bin_path(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is installed by `make install` (the test extra)"
    return found


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def k8s(kind: str) -> dict:
    found = [d for p in sorted(K8S.glob("*.yaml")) for d in documents(p) if d["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def test_dockerfile_passes_hadolint():
    result = subprocess.run([bin_path("hadolint"), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_a_liveness_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0")), user
    assert re.search(r"^HEALTHCHECK .*\n?.*/health/live", text, re.M)
    assert "STOPSIGNAL SIGTERM" in text


def test_kubernetes_manifests_validate_against_the_schemas():
    builtin = [p for p in sorted(K8S.glob("*.yaml")) if not p.name.startswith("keda")]
    result = subprocess.run([bin_path("kubernetes-validate"), "--strict", "--quiet", *map(str, builtin)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_configmap_config_is_a_valid_bananas_config(tmp_path):
    (tmp_path / "config.yaml").write_text(k8s("ConfigMap")["data"]["config.yaml"])
    config = load_config(tmp_path / "config.yaml", environ={})
    assert config.http.host == "0.0.0.0", "probes come from outside the container"
    deployment = k8s("Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"][0]["containerPort"] == config.http.port
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > config.worker.grace_seconds + pre_stop, "the kubelet must not SIGKILL a drain"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["REDIS_URL"]["valueFrom"], "the Redis URL comes from a Secret"


def test_keda_triggers_watch_the_lanes_bananas_really_uses():
    scaled = k8s("ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == k8s("Deployment")["metadata"]["name"]
    lists = [t["metadata"]["listName"] for t in scaled["spec"]["triggers"]]
    assert lists == [QueueKeys("bananas", "default").lane(p) for p in PRIORITIES]
    auth = k8s("TriggerAuthentication")
    secret = k8s("Secret")
    assert {ref["key"] for ref in auth["spec"]["secretTargetRef"]} <= set(secret["stringData"])


def test_compose_keeps_redis_durable_and_the_drain_inside_the_stop_timeout():
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    services = compose["services"]
    redis_cmd = services["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert redis_cmd[redis_cmd.index("--maxmemory-policy") + 1] == "noeviction"
    config = load_config(ROOT / "config" / "example.yaml", environ={})
    assert int(services["bananas"]["stop_grace_period"].rstrip("s")) > config.worker.grace_seconds
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == [f"bananas:{config.http.port}"]
    for volume in services["grafana"]["volumes"]:
        assert (DEPLOY / volume.split(":")[0].removeprefix("./")).exists(), volume


def test_grafana_dashboard_is_generated_and_names_only_real_metric_families():
    committed = (DEPLOY / "grafana" / "dashboards" / "bananas.json").read_text()
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "grafana_dashboard.py"), "--check"])
    assert result.returncode == 0, "deploy/grafana/dashboards/bananas.json is stale: run `make grafana`"
    exprs = [t["expr"] for p in json.loads(committed)["panels"] for t in p["targets"]]
    names = {re.sub(r"_(bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"bananas_[a-z_]+", e)}
    assert names and names <= set(FAMILIES), sorted(names - set(FAMILIES))


def test_the_redis_acl_file_has_the_three_roles_and_no_default_user():
    lines = (DEPLOY / "redis" / "users.acl").read_text().splitlines()
    users = {line.split()[1]: line for line in lines if line.strip()}
    assert set(users) == {"default", "bananas-worker", "bananas-producer", "bananas-viewer"}
    assert users["default"].split()[2] == "off"
    assert "+@write" not in users["bananas-viewer"]



def test_alert_rules_name_only_real_metric_families():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    names = {n for rule in rules for n in re.findall(r"bananas_[a-z_]+", rule["expr"])}
    assert len(rules) >= 5 and names <= set(FAMILIES), sorted(names - set(FAMILIES))
    assert all(rule["labels"]["severity"] in ("critical", "warning", "info") for rule in rules)


HELM_CHART = DEPLOY / "helm" / "bananas"
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}


def helm_template(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin_path("helm"), "template", "bananas", str(HELM_CHART), *args],
                          capture_output=True, text=True, env={"HOME": tempfile.gettempdir(), "PATH": "/usr/bin:/bin"})


def rendered(*args: str) -> list[dict]:
    result = helm_template(*args)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def comparable(doc: dict) -> dict:
    """A manifest with what the chart adds on purpose taken out (the config checksum that rolls
    the pods when the config changes) and the ConfigMap's config.yaml parsed."""
    doc = json.loads(json.dumps(doc))
    if doc["kind"] == "Deployment":
        doc["spec"]["template"]["metadata"]["annotations"].pop("checksum/config", None)
    if doc["kind"] == "ConfigMap":
        doc["data"]["config.yaml"] = yaml.safe_load(doc["data"]["config.yaml"])
    return doc


def test_the_helm_chart_renders_the_same_objects_as_the_plain_manifests():
    static = {(d["kind"], d["metadata"]["name"]): comparable(d)
              for p in sorted(K8S.glob("*.yaml")) for d in documents(p)}
    charted = {(d["kind"], d["metadata"]["name"]): comparable(d) for d in rendered()}
    assert charted.keys() == static.keys()
    for key, doc in static.items():
        assert charted[key] == doc, key


def test_the_rendered_chart_validates_against_the_schemas(tmp_path):
    for name, args in (("defaults", ()), ("signed", ("--set", "signing.enabled=true", "--set", "signing.signWith=k1",
                                                      "--set", "signing.require=true", "--set", "keda.enabled=false",
                                                      "--set", "redis.createSecret=false"))):
        docs = [d for d in rendered(*args) if d["kind"] not in KEDA_KINDS]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(docs))
        result = subprocess.run([bin_path("kubernetes-validate"), "--strict", "--quiet", str(path)],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_chart_mounts_signing_keys_from_a_secret_and_refuses_a_grace_period_that_would_cut_the_drain(tmp_path):
    docs = rendered("--set", "signing.enabled=true", "--set", "signing.signWith=k1", "--set", "signing.require=true",
                    "--set", "redis.createSecret=false", "--set", "keda.enabled=false")
    assert {d["kind"] for d in docs} == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["BANANAS_SECURITY_SIGNING_KEYS_FILE"] == "/etc/bananas/signing/keys"
    assert (env["BANANAS_SECURITY_SIGNING_SIGN_WITH"], env["BANANAS_SECURITY_SIGNING_REQUIRE"]) == ("k1", "true")
    (tmp_path / "keys").write_text("k1=a-secret-of-the-cluster-0123\n")  # what the Secret's `keys` holds
    environ = {**env, "BANANAS_SECURITY_SIGNING_KEYS_FILE": str(tmp_path / "keys")}
    signing = load_config(environ=environ).security.signing
    assert (sorted(signing.keys), signing.sign_with, signing.require) == (["k1"], "k1", True)
    assert {"name": "signing", "secret": {"secretName": "bananas-signing", "defaultMode": 0o400}} in pod["volumes"]
    cut = helm_template("--set", "terminationGracePeriodSeconds=30")
    assert cut.returncode != 0 and "must be above config.worker.grace_seconds" in cut.stderr
