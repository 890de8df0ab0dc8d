namespace Streaming.Deployment.Tests;

/// <summary>The repository root (the folder holding Streaming.sln) and the tools the tests drive.</summary>
public static class Repo
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>helm from scripts/install-tools.sh (.tools/bin/helm), else from PATH. Missing is a failure, not a skip.</summary>
    public static string Helm => FindTool("helm", Path.Combine(Root, ".tools", "bin", "helm"));

    /// <summary>kubectl installed by scripts/install-tools.sh into .tools/bin (when PATH has none new enough), else from PATH.</summary>
    public static string Kubectl => FindTool("kubectl", Path.Combine(Root, ".tools", "bin", "kubectl"));

    /// <summary>promtool and prometheus from Debian's prometheus package (scripts/install-tools.sh). Missing is a failure, not a skip.</summary>
    public static string Promtool => FindTool("promtool", hint: "run scripts/install-tools.sh (it installs Debian's prometheus package)");

    public static string Prometheus => FindTool("prometheus", hint: "run scripts/install-tools.sh (it installs Debian's prometheus package)");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Streaming.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Streaming.sln above {AppContext.BaseDirectory}");
    }

    private static string FindTool(string name, string? preferred = null, string? hint = null)
    {
        if (preferred is not null && File.Exists(preferred))
        {
            return preferred;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        return onPath ?? throw new InvalidOperationException(
            $"{name} is not installed: {hint ?? "run scripts/install-tools.sh (it installs helm, and kubectl when missing, into .tools/bin)"}");
    }
}
