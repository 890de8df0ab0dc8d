namespace Streaming.Testing;

/// <summary>Webhook bodies in Meta's format, kept in the repository (tests/fixtures/whatsapp) so a plain clone tests itself.</summary>
public static class Fixtures
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Folder => Path.Combine(RepositoryRoot, "tests", "fixtures", "whatsapp");

    /// <summary>Every fixture by file name.</summary>
    public static IReadOnlyDictionary<string, byte[]> All() =>
        Directory.EnumerateFiles(Folder, "*.json").ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    public static byte[] Get(string name) => File.ReadAllBytes(Path.Combine(Folder, name));

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
