using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

/// <summary>A plain clone of the repository, with nothing beside it, must build, run and test itself.</summary>
public sealed partial class SelfContainedTests
{

    [Fact]
    public void No_tracked_file_names_the_folder_beside_the_repository()
    {
        var offenders = TrackedFiles()
            .Where(file => !IsBinary(file))
            .Where(file => BesideTheRepository().IsMatch(File.ReadAllText(Repo.PathOf(file))))
            .ToArray();
        Assert.True(offenders.Length == 0, $"these files read or name the folder beside the repository: {string.Join(", ", offenders)}");
    }

    [Fact]
    public void The_fixtures_the_tests_use_are_in_the_repository()
    {
        var folder = Repo.PathOf("tests/fixtures/whatsapp");
        foreach (var name in new[] { "mixed-batch.json", "text-message.json", "status-delivered.json", "status-failed.json", "reaction.json", "template-status-update.json" })
        {
            Assert.True(File.Exists(Path.Combine(folder, name)), $"tests/fixtures/whatsapp/{name} is missing");
        }
    }

    private static string[] TrackedFiles()
    {
        var git = Process.Start(new ProcessStartInfo("git", "ls-files -co --exclude-standard")
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
        })!;
        var files = git.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        git.WaitForExit();
        Assert.Equal(0, git.ExitCode);
        Assert.NotEmpty(files);
        return files.Where(f => File.Exists(Repo.PathOf(f))).ToArray();
    }

    // The folder beside the repository, as a relative path not inside another one ("../../shared/X" is the
    // repository's own shared/), or as Path.Combine(root, "..", "s..."). Character classes keep this file from matching itself.
    [GeneratedRegex(@"(?:^|[^./])\.\.[/]shared|""\.\.""\s*,\s*""shar[e]d""")]
    private static partial Regex BesideTheRepository();

    private static bool IsBinary(string file) =>
        Path.GetExtension(file) is ".png" or ".jpg" or ".dll" or ".so" or ".gz";
}
