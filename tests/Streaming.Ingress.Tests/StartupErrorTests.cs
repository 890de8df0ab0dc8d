using Streaming.Testing;

namespace Streaming.Ingress.Tests;

/// <summary>A mis-configured service says which variable is wrong, in one line, and exits 2: no stack trace.</summary>
public class StartupErrorTests
{
    private static async Task<(int? Code, string Output)> RunAsync(string assembly, Dictionary<string, string?> environment)
    {
        environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = ServiceProcess.Start(assembly, environment);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (code, process.Output);
    }

    [Fact]
    public async Task The_ingress_without_its_secrets_names_them_and_exits_2()
    {
        var (code, output) = await RunAsync("Streaming.Ingress.dll", new() { ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1", ["INGRESS_PORT"] = "0" });
        Assert.Equal(2, code);
        Assert.Contains("ingress: configuration error: WHATSAPP_APP_SECRET is required", output);
        Assert.Contains("WHATSAPP_VERIFY_TOKEN is required", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_worker_with_a_bad_lane_and_url_names_them_and_exits_2()
    {
        var (code, output) = await RunAsync("Streaming.Worker.dll", new()
        {
            ["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:1", ["WORKER_PORT"] = "0", ["WORKER_LANE"] = "urgent",
            ["DELIVERY_URL"] = "not a url", ["DELIVERY_SIGNING_SECRET"] = "whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==",
        });
        Assert.Equal(2, code);
        Assert.Contains("worker: configuration error: WORKER_LANE must be 'messages' or 'statuses' (got 'urgent')", output);
        Assert.Contains("DELIVERY_URL must be an absolute http(s) URL", output);
        Assert.DoesNotContain("c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw", output);
        Assert.DoesNotContain("   at ", output);
    }
}
