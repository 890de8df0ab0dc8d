namespace Streaming.Testing;

/// <summary>Webhook bodies: the team's shared fixtures (../shared/fixtures/whatsapp) and the project's own (tests/fixtures/whatsapp).</summary>
public static class Fixtures
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string SharedDirectory => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "fixtures", "whatsapp"));

    public static string OwnDirectory => Path.Combine(RepositoryRoot, "tests", "fixtures", "whatsapp");

    /// <summary>Every fixture by file name; the shared folder must exist (CI clones it beside the repo).</summary>
    public static IReadOnlyDictionary<string, byte[]> All()
    {
        if (!Directory.Exists(SharedDirectory))
        {
            throw new DirectoryNotFoundException($"the shared fixtures are missing: {SharedDirectory}");
        }

        return Directory.EnumerateFiles(SharedDirectory, "*.json")
            .Concat(Directory.EnumerateFiles(OwnDirectory, "*.json"))
            .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
    }

    public static byte[] Get(string name) => All()[name];

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Streaming.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Streaming.sln not found above " + AppContext.BaseDirectory);
    }
}
