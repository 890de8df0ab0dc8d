namespace Streaming.Deployment.Tests;

/// <summary>
/// Every rendered manifest (each helm/whatsapp-streaming/ci/*values.yaml and each kustomize overlay) against the
/// strict Kubernetes v1.37 and KEDA / prometheus-operator CRD schemas, offline (see Schemas/README.md).
/// </summary>
public sealed class SchemaValidationTests
{
    public static TheoryData<string> CiValues
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var file in Directory.EnumerateFiles(Repo.PathOf(Helm.Chart + "/ci"), "*values.yaml").Order())
            {
                data.Add($"{Helm.Chart}/ci/{Path.GetFileName(file)}");
            }

            return data;
        }
    }

    public static TheoryData<string> KustomizeDirectories => new() { "k8s/base", "k8s/overlays/dev", "k8s/overlays/production" };

    private static void AssertValid(string manifests, string what)
    {
        Assert.NotEmpty(Yaml.Objects(manifests));
        var violations = ManifestSchemas.Violations(manifests);
        Assert.True(violations.Count == 0, $"{what}:\n{string.Join('\n', violations)}");
    }

    [Theory]
    [MemberData(nameof(CiValues))]
    public void Every_chart_render_is_valid_against_the_kubernetes_and_crd_schemas(string values)
    {
        var result = Helm.Template("-f", values);
        Assert.True(result.ExitCode == 0, result.Output);
        AssertValid(result.Stdout, values);
    }

    [Theory]
    [MemberData(nameof(KustomizeDirectories))]
    public void Every_kustomize_build_is_valid_against_the_kubernetes_schemas(string directory)
    {
        var result = Kubectl.Kustomize(directory);
        Assert.True(result.ExitCode == 0, result.Output);
        AssertValid(result.Stdout, directory);
    }

    [Theory]
    [InlineData("apps/v1/Deployment", "readinessProbe:", "readynessProbe:")]
    [InlineData("apps/v1/Deployment", "runAsNonRoot:", "runAsNonroot:")]
    [InlineData("keda.sh/v1alpha1/ScaledObject", "cooldownPeriod:", "cooldownPeriods:")]
    [InlineData("autoscaling/v2/HorizontalPodAutoscaler", "minReplicas:", "minReplica:")]
    public void A_misspelled_field_fails_validation(string kind, string field, string misspelled)
    {
        var rendered = Helm.Template("-f", Helm.FullValues, "--set", "workers.statuses.autoscaling.type=hpa").Stdout;
        var document = rendered.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .First(d => ManifestSchemas.TypedDocuments(d) is [System.Text.Json.Nodes.JsonObject o] && $"{o["apiVersion"]}/{o["kind"]}" == kind && d.Contains(field, StringComparison.Ordinal));
        Assert.Empty(ManifestSchemas.Violations(document));

        var violations = ManifestSchemas.Violations(document.Replace(field, misspelled, StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains(misspelled.TrimEnd(':'), StringComparison.Ordinal));
    }

    [Fact]
    public void A_wrongly_typed_or_missing_required_field_fails_validation()
    {
        const string Deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
            spec:
              replicas: "3"
              selector:
                matchLabels: {app: x}
              template:
                metadata:
                  labels: {app: x}
                spec:
                  containers:
                    - image: x
            """;
        var violations = ManifestSchemas.Violations(Deployment);
        Assert.Contains(violations, v => v.Contains("replicas", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("PropertyRequired", StringComparison.Ordinal) && v.Contains("name", StringComparison.Ordinal));
        Assert.Contains(ManifestSchemas.Violations("apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n"), v => v.Contains("no schema vendored for v1/Widget", StringComparison.Ordinal));
    }
}
