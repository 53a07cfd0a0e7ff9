#!/usr/bin/env python3
"""Checks conf/kubernetes/*.yaml the way `kubectl apply --dry-run` would
not need a cluster for: every document parses, its kind is served at that
apiVersion by Kubernetes 1.30+, and the DaemonSet has what a CNI
DaemonSet needs (host network, node-critical priority, tolerations, the
install-cni init container, the host mounts, probes on the daemons'
--metrics-address ports, the ServiceAccount the RBAC binds).

usage: check_manifests.py DIR OUTDIR
Prints "ok   NAME" / "FAIL NAME: why" lines; writes the ConfigMap's
network.yaml and 10-loom.conflist into OUTDIR for the shell test; exits 1
on any failure."""
import glob
import os
import sys

import yaml

# kind -> the apiVersion Kubernetes 1.30 serves it at (GA, not removed).
SERVED = {
    "ServiceAccount": "v1",
    "ConfigMap": "v1",
    "DaemonSet": "apps/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
}
HOST_MOUNTS = ["/opt/cni/bin", "/etc/cni/net.d", "/run/loom", "/var/lib/cni", "/sys/fs/bpf",
               "/lib/modules"]
VERBS = {("", "nodes"): {"get", "list", "watch", "patch"},
         ("", "namespaces"): {"get", "list", "watch"},
         ("", "pods"): {"get", "list", "watch"},
         ("networking.k8s.io", "networkpolicies"): {"get", "list", "watch"}}

failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL %s%s" % (name, ": " + why if why else ""))


def main():
    src, out = sys.argv[1], sys.argv[2]
    docs = []
    for path in sorted(glob.glob(os.path.join(src, "*.yaml"))):
        with open(path) as f:
            try:
                for d in yaml.safe_load_all(f):
                    if d is not None:
                        docs.append((os.path.basename(path), d))
            except yaml.YAMLError as e:
                check(os.path.basename(path) + " parses", False, str(e))
    check("manifests found", len(docs) > 0, "no documents in " + src)
    by_kind = {}
    for fname, d in docs:
        kind, api = d.get("kind"), d.get("apiVersion")
        name = (d.get("metadata") or {}).get("name")
        check("%s: %s/%s served as %s by Kubernetes 1.30+" % (fname, kind, name, api),
              kind in SERVED and SERVED[kind] == api,
              "expected apiVersion %s" % SERVED.get(kind, "(unknown kind)"))
        check("%s: %s has a name" % (fname, kind), bool(name))
        by_kind.setdefault(kind, []).append(d)
    for kind in SERVED:
        check("one %s" % kind, len(by_kind.get(kind, [])) == 1)
    if failed:
        return 1

    sa = by_kind["ServiceAccount"][0]["metadata"]
    role = by_kind["ClusterRole"][0]
    binding = by_kind["ClusterRoleBinding"][0]
    cm = by_kind["ConfigMap"][0]
    ds = by_kind["DaemonSet"][0]
    pod = ds["spec"]["template"]["spec"]

    granted = {}
    for rule in role.get("rules", []):
        for g in rule.get("apiGroups", []):
            for r in rule.get("resources", []):
                granted.setdefault((g, r), set()).update(rule.get("verbs", []))
    check("ClusterRole grants exactly loom's verbs", granted == VERBS,
          "granted %s" % sorted((k, sorted(v)) for k, v in granted.items()))
    check("ClusterRoleBinding binds the ClusterRole",
          binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": role["metadata"]["name"]})
    check("ClusterRoleBinding binds the ServiceAccount",
          {"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}
          in binding.get("subjects", []))
    check("DaemonSet runs as the ServiceAccount",
          pod.get("serviceAccountName") == sa["name"] and
          ds["metadata"].get("namespace") == sa["namespace"])
    check("DaemonSet selector matches its pods",
          all(pod_v == ds["spec"]["template"]["metadata"]["labels"].get(k)
              for k, pod_v in ds["spec"]["selector"]["matchLabels"].items()))
    check("hostNetwork", pod.get("hostNetwork") is True)
    check("priorityClassName system-node-critical",
          pod.get("priorityClassName") == "system-node-critical")
    tol = pod.get("tolerations", [])
    check("tolerates NoSchedule and NoExecute taints",
          {"operator": "Exists", "effect": "NoSchedule"} in tol and
          {"operator": "Exists", "effect": "NoExecute"} in tol)

    vols = {v["name"]: v for v in pod.get("volumes", [])}
    host = {v["hostPath"]["path"]: n for n, v in vols.items() if "hostPath" in v}
    for p in HOST_MOUNTS:
        check("host path %s is a volume" % p, p in host)
    init = {c["name"]: c for c in pod.get("initContainers", [])}
    check("install-cni init container", "install-cni" in init)
    if "install-cni" in init:
        script = " ".join(init["install-cni"].get("command", []))
        mounts = {m["name"] for m in init["install-cni"].get("volumeMounts", [])}
        check("install-cni mounts /opt/cni/bin and /etc/cni/net.d",
              {host.get("/opt/cni/bin"), host.get("/etc/cni/net.d")} <= mounts)
        for p in ["loom-bridge", "loom-vxlan", "loom-bgp", "loom-ipam"]:
            check("install-cni copies " + p, p in script)
        check("install-cni renames into place (atomic)", "mv -f" in script and ".tmp" in script)
        check("install-cni writes 10-loom.conflist", "10-loom.conflist" in script)

    ctrs = {c["name"]: c for c in pod.get("containers", [])}
    check("loomd and loom-policyd containers", {"loomd", "loom-policyd"} <= set(ctrs))
    for name, c in ctrs.items():
        args = c.get("args", [])
        addr = [a.split("=", 1)[1] for a in args if a.startswith("--metrics-address=")]
        port = int(addr[0].rsplit(":", 1)[1]) if addr else None
        check("%s has --metrics-address" % name, port is not None)
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            http = (c.get(probe) or {}).get("httpGet", {})
            check("%s %s on %s at the metrics port" % (name, probe, path),
                  http.get("path") == path and http.get("port") == port,
                  "got %s" % http)
    lm = [m for m in ctrs.get("loomd", {}).get("volumeMounts", [])
          if m["name"] == host.get("/lib/modules")]
    check("loomd mounts /lib/modules read-only", len(lm) == 1 and lm[0].get("readOnly") is True)
    loomd_mounts = {m["name"] for m in ctrs.get("loomd", {}).get("volumeMounts", [])}
    for p in ["/etc/cni/net.d", "/run/loom", "/var/lib/cni", "/sys/fs/bpf"]:
        check("loomd mounts " + p, host.get(p) in loomd_mounts)
    check("loomd writes the conflist where the runtime reads it",
          "--write-conflist=/etc/cni/net.d" in ctrs.get("loomd", {}).get("args", []))

    data = cm.get("data", {})
    for key in ["store", "network.yaml", "10-loom.conflist"]:
        check("ConfigMap holds " + key, key in data)
    check("the ConfigMap is the one the pods read",
          vols.get("loom-config", {}).get("configMap", {}).get("name") == cm["metadata"]["name"])
    os.makedirs(out, exist_ok=True)
    for key in ["network.yaml", "10-loom.conflist"]:
        with open(os.path.join(out, key), "w") as f:
            f.write(data.get(key, ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
