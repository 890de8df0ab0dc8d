namespace Streaming.Deployment.Tests;

/// <summary>Checks shared by the Helm and kustomize renders: hardening, probes, environment.</summary>
public static class Workloads
{
    public static readonly string[] PodKinds = ["Deployment", "Job", "StatefulSet", "DaemonSet"];

    public static Node PodSpec(K8sObject o) => o.Node.At("spec.template.spec");

    public static IEnumerable<Node> Containers(K8sObject o) => PodSpec(o)["containers"].Items;

    public static K8sObject Single(IEnumerable<K8sObject> objects, string kind, string name) =>
        objects.SingleOrDefault(o => o.Kind == kind && o.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind}/{name} in: {string.Join(", ", objects)}");

    /// <summary>Non-root, seccomp RuntimeDefault, read-only root, no privilege escalation, no capabilities, an emptyDir /tmp.</summary>
    public static void AssertHardened(K8sObject o)
    {
        var pod = PodSpec(o);
        Assert.True(pod.At("securityContext.runAsNonRoot").Bool, $"{o}: runAsNonRoot");
        Assert.Equal("RuntimeDefault", pod.At("securityContext.seccompProfile.type").Str);
        Assert.Equal("false", pod["automountServiceAccountToken"].Str);
        var tmpVolumes = pod["volumes"].Items.Where(v => v["emptyDir"].Exists).Select(v => v["name"].Str).ToHashSet();
        foreach (var c in Containers(o))
        {
            var sc = c["securityContext"];
            Assert.True(sc["readOnlyRootFilesystem"].Bool, $"{o}/{c["name"]}: readOnlyRootFilesystem");
            Assert.False(sc["allowPrivilegeEscalation"].Bool, $"{o}/{c["name"]}: allowPrivilegeEscalation");
            Assert.Contains("ALL", sc.At("capabilities.drop").Items.Select(i => i.Str));
            Assert.Contains(c["volumeMounts"].Items, m => m["mountPath"].Str == "/tmp" && tmpVolumes.Contains(m["name"].Str));
            Assert.True(c.At("resources.requests").Exists, $"{o}/{c["name"]}: resource requests");
            Assert.True(c.At("resources.limits.memory").Exists, $"{o}/{c["name"]}: memory limit");
        }
    }

    /// <summary>Liveness on /healthz (no Kafka call), readiness on /readyz, both on the named port http.</summary>
    public static void AssertProbes(K8sObject o)
    {
        foreach (var c in Containers(o))
        {
            Assert.Equal("/healthz", c.At("livenessProbe.httpGet.path").Str);
            Assert.Equal("/readyz", c.At("readinessProbe.httpGet.path").Str);
            Assert.Equal("http", c.At("livenessProbe.httpGet.port").Str);
            Assert.Equal("http", c.At("readinessProbe.httpGet.port").Str);
            Assert.Contains(c["ports"].Items, p => p["name"].Str == "http");
        }
    }

    public static IReadOnlyDictionary<string, Node> Env(Node container) =>
        container["env"].Items.ToDictionary(e => e["name"].Str!, e => e);

    public static string? SecretRef(Node envVar) => envVar.At("valueFrom.secretKeyRef.name").Str;
}
