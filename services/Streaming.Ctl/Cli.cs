using System.CommandLine;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Streaming.Ctl.Commands;

namespace Streaming.Ctl;

/// <summary>streamctl's commands (System.CommandLine) and its one error policy: a clear line and an exit code.</summary>
public static class Cli
{
    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter stdout, TextWriter stderr)
    {
        CtlContext Context() => new(configuration, stdout, stderr);
        var root = new RootCommand("streamctl: operate the WhatsApp webhook pipeline (uses KAFKA_BOOTSTRAP_SERVERS, TOPIC_PREFIX, RETRY_DELAYS)")
        {
            TopicsCommands.Create(Context),
            LagCommand.Create(Context),
            DlqCommands.Create(Context),
            DestinationsCommands.Create(configuration, stdout),
        };

        var parse = root.Parse(args);
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (CtlException e)
        {
            await stderr.WriteLineAsync($"streamctl: {e.Message}");
            return e.ExitCode;
        }
        catch (KafkaException e)
        {
            await stderr.WriteLineAsync($"streamctl: Kafka error at {configuration["KAFKA_BOOTSTRAP_SERVERS"]}: {e.Error.Reason}");
            return CtlException.Unreachable;
        }
    }
}
