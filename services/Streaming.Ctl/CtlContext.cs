using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Streaming.Contracts;
using Streaming.Kafka;
using Streaming.Kafka.Clients;

namespace Streaming.Ctl;

/// <summary>What every command needs: the cluster, the topology (from the same variables as the services) and the outputs.</summary>
public sealed class CtlContext
{
    private static readonly TimeSpan ReachTimeout = TimeSpan.FromSeconds(8);

    public CtlContext(IConfiguration configuration, TextWriter stdout, TextWriter stderr)
    {
        Kafka = configuration.Get<KafkaOptions>() ?? new KafkaOptions();
        var failures = Kafka.Validate().ToArray();
        if (failures.Length > 0)
        {
            throw new CtlException(string.Join("; ", failures));
        }

        try
        {
            Topology = (configuration.Get<TopologyOptions>() ?? new TopologyOptions()).Build();
        }
        catch (ArgumentException e)
        {
            throw new CtlException(e.Message);
        }

        Out = stdout;
        Error = stderr;
        Clients = new KafkaClientFactory(Kafka, new StderrLogger(stderr));
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(stdout),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        Console.Profile.Width = 160;
    }

    public KafkaOptions Kafka { get; }

    /// <summary>Builds every Kafka client of a command: the connection settings and the stderr logging.</summary>
    public KafkaClientFactory Clients { get; }

    public Topology Topology { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Tables go here (plain text, no colour): scripts should use --json instead.</summary>
    public IAnsiConsole Console { get; }

    public static Lane ParseLane(string? name) =>
        LaneNames.TryParse(name, out var lane) ? lane : throw new CtlException($"unknown lane '{name}': use {LaneNames.Messages} or {LaneNames.Statuses}");

    public IAdminClient Admin() => Clients.Admin().Build();

    /// <summary>Fails fast, naming the address, when the cluster does not answer.</summary>
    public Metadata Reach(IAdminClient admin)
    {
        try
        {
            return admin.GetMetadata(ReachTimeout);
        }
        catch (KafkaException e)
        {
            throw new CtlException($"cannot reach Kafka at {Kafka.BootstrapServers}: {e.Error.Reason}", CtlException.Unreachable);
        }
    }

    public IConsumer<string?, byte[]> Reader(string groupId = "streamctl-reader") =>
        Clients.Consumer<string?, byte[]>(new ConsumerConfig
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = true,
        }).Build();
}
