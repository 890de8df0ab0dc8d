using Microsoft.Extensions.Configuration;
using Streaming.EmbeddedKafka;
using Streaming.Kafka;

namespace Streaming.DevBroker;

/// <summary>`make dev-broker`: the first stdout line is the contract, scripts read KAFKA_BOOTSTRAP_SERVERS from it.</summary>
internal static class DevBroker
{
    public static async Task<int> RunAsync(IConfiguration configuration)
    {
        var topologyOptions = configuration.Get<TopologyOptions>() ?? new TopologyOptions();
        Topology topology;
        try
        {
            topology = topologyOptions.Build();
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"dev-broker: {e.Message}");
            return 2;
        }

        var brokers = int.TryParse(configuration["EMBEDDED_KAFKA_BROKERS"], out var n) && n > 0 ? n : 3;
        using var cluster = EmbeddedKafkaCluster.Start(brokers);
        cluster.CreateTopics(topology);

        Console.Out.WriteLine($"KAFKA_BOOTSTRAP_SERVERS={cluster.BootstrapServers}");
        Console.Out.Flush();
        await Console.Error.WriteLineAsync($"WARNING: {EmbeddedKafkaCluster.Banner}");
        await Console.Error.WriteLineAsync($"dev-broker: {brokers} brokers, {topology.Topics.Count} topics under '{topology.Prefix}.*'; Ctrl-C stops it");

        await StopSignal.WaitAsync();
        await Console.Error.WriteLineAsync("dev-broker: stopped");
        return 0;
    }
}

internal static class StopSignal
{
    public static Task WaitAsync()
    {
        var stop = new TaskCompletionSource();
        var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
        return stop.Task.ContinueWith(_ => sigterm.Dispose(), TaskScheduler.Default);
    }
}
