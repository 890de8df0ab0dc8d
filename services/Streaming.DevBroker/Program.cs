using Microsoft.Extensions.Configuration;
using Streaming.EmbeddedKafka;
using Streaming.Kafka;

// The first stdout line is the contract: scripts read KAFKA_BOOTSTRAP_SERVERS from it.
var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
var topologyOptions = configuration.Get<TopologyOptions>() ?? new TopologyOptions();
Topology topology;
try
{
    topology = topologyOptions.Build();
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"dev-broker: {e.Message}");
    return 2;
}

var brokers = int.TryParse(configuration["EMBEDDED_KAFKA_BROKERS"], out var n) && n > 0 ? n : 3;
using var cluster = EmbeddedKafkaCluster.Start(brokers);
cluster.CreateTopics(topology);

Console.Out.WriteLine($"KAFKA_BOOTSTRAP_SERVERS={cluster.BootstrapServers}");
Console.Out.Flush();
Console.Error.WriteLine($"WARNING: {EmbeddedKafkaCluster.Banner}");
Console.Error.WriteLine($"dev-broker: {brokers} brokers, {topology.Topics.Count} topics under '{topology.Prefix}.*'; Ctrl-C stops it");

var stop = new TaskCompletionSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.TrySetResult(); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;
Console.Error.WriteLine("dev-broker: stopped");
return 0;
