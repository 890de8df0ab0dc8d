namespace Streaming.Deployment.Tests;

/// <summary>
/// Offline checks with kubectl. `kubectl apply --dry-run=client` and `kubectl create --dry-run=client
/// --validate=false` both need an API server (discovery for the REST mapping, OpenAPI for validation),
/// which a build machine does not have. What works without one: `label --local` decodes every object
/// of a stream (apiVersion, kind, metadata), and `set env --local` decodes workloads into their typed
/// Go structs, which rejects wrongly typed fields (a string where an int belongs, ...). Unknown fields
/// are not caught: the tests assert the fields that matter.
/// </summary>
public static class Kubectl
{
    public static ToolResult Kustomize(string directory) => Tool.Run(Repo.Kubectl, ["kustomize", directory]);

    public static void AssertDecodes(string manifests)
    {
        var objects = Yaml.Objects(manifests);
        Assert.NotEmpty(objects);

        var all = Tool.Run(Repo.Kubectl, ["label", "--local", "--dry-run=client", "-f", "-", "-o", "name", "checked=true"], manifests);
        Assert.True(all.ExitCode == 0, all.Output);
        Assert.Equal(objects.Count, all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var workloads = objects.Where(o => Workloads.PodKinds.Contains(o.Kind)).ToArray();
        var typed = Tool.Run(Repo.Kubectl, ["set", "env", "--local", "--dry-run=client", "-f", "-", "-o", "name", "CHECKED=true"],
            string.Join("\n---\n", workloads.Select(w => YamlOf(manifests, w))));
        Assert.True(typed.ExitCode == 0, typed.Output);
        Assert.Equal(workloads.Length, typed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>The source text of one object of a multi-document stream, found by kind and name.</summary>
    private static string YamlOf(string manifests, K8sObject wanted) =>
        manifests.Split(["\n---"], StringSplitOptions.None)
            .Single(doc => Yaml.ParseAll(doc).Select(n => new K8sObject(n)).Any(o => o.Kind == wanted.Kind && o.Name == wanted.Name));
}
