namespace Streaming.Deployment.Tests;

public sealed class DockerfileTests
{
    public static TheoryData<string, string, string, string?> Images => new()
    {
        // service, runtime image, entry assembly, exposed port
        { "Streaming.Ingress", "mcr.microsoft.com/dotnet/aspnet:10.0", "Streaming.Ingress.dll", "8080" },
        { "Streaming.Worker", "mcr.microsoft.com/dotnet/aspnet:10.0", "Streaming.Worker.dll", "8081" },
        { "Streaming.Ctl", "mcr.microsoft.com/dotnet/runtime:10.0", "streamctl.dll", null },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Multi_stage_non_root_images_with_libsasl(string service, string runtime, string assembly, string? port)
    {
        var lines = Repo.Read($"services/{service}/Dockerfile").Split('\n').Select(l => l.Trim()).ToArray();
        var from = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToArray();

        Assert.Equal(2, from.Length);
        Assert.Contains("mcr.microsoft.com/dotnet/sdk:10.0 AS build", from[0]);
        Assert.Contains(lines, l => l.Contains($"dotnet publish services/{service}/{service}.csproj -c Release", StringComparison.Ordinal));
        Assert.StartsWith($"FROM {runtime}", from[1]);
        Assert.Contains(lines, l => l.Contains("libsasl2-2", StringComparison.Ordinal));
        Assert.Equal("USER $APP_UID", lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{assembly}\"]", lines);
        if (port is null)
        {
            Assert.DoesNotContain(lines, l => l.StartsWith("EXPOSE", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains($"EXPOSE {port}", lines);
        }
    }

    [Fact]
    public void The_build_context_leaves_out_build_output_and_git()
    {
        var ignored = Repo.Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToHashSet();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", ".git/", "tests/", ".tools/" })
        {
            Assert.Contains(pattern, ignored);
        }

        Assert.DoesNotContain("shared/", ignored);
        Assert.DoesNotContain("services/", ignored);
    }
}
