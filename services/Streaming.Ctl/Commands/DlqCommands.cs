using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Streaming.Contracts;
using Streaming.Ctl.DeadLetters;
using Streaming.Ctl.Output;
using Streaming.Kafka;
using Streaming.SchemaRegistry;

namespace Streaming.Ctl.Commands;

/// <summary>The JSON a script gets from dlq list/show: the dead letter, where it sits, and whether it was replayed.</summary>
public sealed record DeadLetterView(string Position, int Partition, long Offset, DateTimeOffset Timestamp, DateTimeOffset? ReplayedAt, DeadLetter? Letter, string? ParseError, JsonElement? OriginalEnvelope);

[JsonSerializable(typeof(IReadOnlyList<DeadLetterView>))]
[JsonSerializable(typeof(DeadLetterView))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
internal sealed partial class DlqJsonContext : JsonSerializerContext;

internal static class DlqCommands
{
    public static Command Create(Func<CtlContext> context)
    {
        return new Command("dlq", "Inspect and replay a lane's dead letters")
        {
            List(context),
            Show(context),
            Replay(context),
        };
    }

    private sealed class FilterOptions
    {
        public Option<string> Lane { get; } = new("--lane") { Description = "messages or statuses", Required = true };
        public Option<string[]> EventId { get; } = new("--event-id") { Description = "only these event ids (repeatable)", AllowMultipleArgumentsPerToken = true };
        public Option<string?> Reason { get; } = new("--reason") { Description = "terminal-4xx, retries-exhausted, poison, processing-error or order-blocked" };
        public Option<int?> Status { get; } = new("--status") { Description = "last HTTP status code, e.g. 404" };
        public Option<string?> Key { get; } = new("--key") { Description = "the customer's wa_id (record key)" };
        public Option<string?> Since { get; } = new("--since") { Description = "failed at or after: ISO-8601 time or a duration back from now (2h, 7d)" };
        public Option<string?> Until { get; } = new("--until") { Description = "failed at or before: ISO-8601 time or a duration back from now" };
        public Option<string?> Destination { get; } = new("--destination") { Description = "only this destination's dead letters (a DESTINATIONS_FILE name, or default)" };

        public void AddTo(Command command)
        {
            command.Options.Add(Lane);
            command.Options.Add(EventId);
            command.Options.Add(Reason);
            command.Options.Add(Status);
            command.Options.Add(Key);
            command.Options.Add(Since);
            command.Options.Add(Until);
            command.Options.Add(Destination);
        }

        public DeadLetterFilter Filter(ParseResult parse) => DeadLetterFilter.Create(
            parse.GetValue(EventId), parse.GetValue(Reason), parse.GetValue(Status), parse.GetValue(Key), parse.GetValue(Since), parse.GetValue(Until),
            parse.GetValue(Destination));
    }

    private static (LaneTopics Lane, IReadOnlyList<DeadLetterEntry> Entries) Load(CtlContext ctx, string laneName, DeadLetterFilter filter)
    {
        var lane = ctx.Topology[CtlContext.ParseLane(laneName)];
        var ledger = ReplayLedger.Read(ctx, lane);
        var entries = TopicScanner.ReadAll(ctx, lane.DeadLetter.Name)
            .Select(r => DeadLetterEntry.From(r, ledger))
            .Where(filter.Matches)
            .OrderBy(e => e.Timestamp).ThenBy(e => e.Partition).ThenBy(e => e.Offset)
            .ToArray();
        return (lane, entries);
    }

    private static Command List(Func<CtlContext> context)
    {
        var filter = new FilterOptions();
        var json = new Option<bool>("--json") { Description = "JSON for scripts instead of a table" };
        var command = new Command("list", "List dead letters, filtered");
        filter.AddTo(command);
        command.Options.Add(json);
        command.SetAction((parse, _) =>
        {
            var ctx = context();
            var (_, entries) = Load(ctx, parse.GetValue(filter.Lane)!, filter.Filter(parse));
            if (parse.GetValue(json))
            {
                ctx.Out.WriteLine(JsonSerializer.Serialize<IReadOnlyList<DeadLetterView>>(entries.Select(View).ToArray(), DlqJsonContext.Default.IReadOnlyListDeadLetterView));
                return Task.FromResult(0);
            }

            DeadLetterListing.Write(ctx, entries);
            ctx.Out.WriteLine($"{entries.Count} dead letters ({entries.Count(e => e.ReplayedAt is null)} not replayed)");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Show(Func<CtlContext> context)
    {
        var lane = new Option<string>("--lane") { Description = "messages or statuses", Required = true };
        var which = new Argument<string>("event-id-or-position") { Description = "an event id, or partition:offset of the DLQ record" };
        var command = new Command("show", "One dead letter in full, with its original envelope (JSON)") { lane, which };
        command.SetAction((parse, _) =>
        {
            var ctx = context();
            var wanted = parse.GetValue(which)!;
            var (_, entries) = Load(ctx, parse.GetValue(lane)!, DeadLetterFilter.Create(null, null, null, null, null, null));
            var matches = entries.Where(e => e.Position == wanted || e.Letter?.EventId == wanted).ToArray();
            if (matches.Length == 0)
            {
                throw new CtlException($"no dead letter '{wanted}' on lane {parse.GetValue(lane)}", CtlException.Refused);
            }

            ctx.Out.WriteLine(JsonSerializer.Serialize<IReadOnlyList<DeadLetterView>>(matches.Select(View).ToArray(), DlqJsonContext.Default.IReadOnlyListDeadLetterView));
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Replay(Func<CtlContext> context)
    {
        var filter = new FilterOptions();
        var all = new Option<bool>("--all") { Description = "replay every dead letter not yet replayed (no filter needed)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "say what would be replayed, change nothing" };
        var rate = new Option<double?>("--rate") { Description = "at most N replays per second" };
        var force = new Option<bool>("--force") { Description = "replay even while the lane's circuit is open" };
        var metrics = new Option<string[]>("--worker-metrics")
        {
            Description = "the lane workers' /metrics URLs, to refuse while the circuit is open (default: WORKER_METRICS_URLS)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("replay", "Replay dead letters onto the lane's main topic, each at most once (recorded in the .dlq.replayed ledger)");
        filter.AddTo(command);
        command.Options.Add(all);
        command.Options.Add(dryRun);
        command.Options.Add(rate);
        command.Options.Add(force);
        command.Options.Add(metrics);
        command.SetAction(async (parse, ct) =>
        {
            var ctx = context();
            var selection = filter.Filter(parse);
            if (selection.IsEmpty && !parse.GetValue(all))
            {
                throw new CtlException("say what to replay: --event-id, a filter (--reason, --status, --key, --since, --until, --destination) or --all");
            }

            if (parse.GetValue(rate) is <= 0)
            {
                throw new CtlException("--rate must be a positive number of replays per second");
            }

            var (lane, entries) = Load(ctx, parse.GetValue(filter.Lane)!, selection);
            var pending = entries.Where(e => e.ReplayedAt is null).ToArray();
            var skipped = entries.Count - pending.Length;
            if (parse.GetValue(dryRun))
            {
                foreach (var e in pending)
                {
                    ctx.Out.WriteLine($"would replay {e.Position} {e.Letter?.EventId ?? "(unreadable)"} -> {lane.Main.Name}");
                }

                ctx.Out.WriteLine($"dry run: {pending.Length} would be replayed, {skipped} already replayed; nothing changed");
                return 0;
            }

            if (pending.Length > 0 && !parse.GetValue(force))
            {
                var urls = parse.GetValue(metrics) is { Length: > 0 } given ? given
                    : (Environment.GetEnvironmentVariable("WORKER_METRICS_URLS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (urls.Length == 0)
                {
                    ctx.Error.WriteLine("streamctl: circuit state not checked (no --worker-metrics / WORKER_METRICS_URLS)");
                }
                else if (await CircuitCheck.OpenAtAsync(urls, lane.Lane, ct) is { Count: > 0 } open)
                {
                    throw new CtlException($"the {lane.Lane.ToName()} lane's circuit is open ({string.Join(", ", open)}): replays would fail again; wait, or use --force", CtlException.Refused);
                }
                else if (selection.Destination is { } destination && await CircuitCheck.DestinationOpenAtAsync(urls, lane.Lane, destination, ct) is { Count: > 0 } destinationOpen)
                {
                    throw new CtlException($"destination {destination}'s circuit is open on the {lane.Lane.ToName()} lane ({string.Join(", ", destinationOpen)}): replays would fail again; wait, or use --force", CtlException.Refused);
                }
            }

            var replayed = 0;
            using (var replayer = new DeadLetterReplayer(ctx, lane))
            {
                var pacer = new RatePacer(parse.GetValue(rate));
                var progress = new ProgressLine(ctx.Error, pending.Length);
                foreach (var entry in pending)
                {
                    await pacer.WaitTurnAsync(ct);
                    replayer.Replay(entry);
                    replayed++;
                    progress.Report(replayed);
                }

                progress.Done();
            }

            ctx.Out.WriteLine($"replayed {replayed} to {lane.Main.Name}; {skipped} already replayed, skipped");
            return 0;
        });
        return command;
    }

    private static DeadLetterView View(DeadLetterEntry e)
    {
        JsonElement? envelope = null;
        // The original value may be framed (Schema Registry): the envelope is the JSON after the frame.
        if (WireFormat.TryRead(e.Letter?.OriginalValue, out var value) && value.Json.Length > 0)
        {
            try
            {
                envelope = JsonDocument.Parse(value.Json).RootElement.Clone();
            }
            catch (JsonException)
            {
                // A poison record: the base64 original value in the letter is all there is.
            }
        }

        return new DeadLetterView(e.Position, e.Partition, e.Offset, e.Timestamp, e.ReplayedAt, e.Letter, e.ParseError, envelope);
    }
}

/// <summary>A one-line progress bar on stderr for long replays (Spectre's live display needs a terminal).</summary>
internal sealed class ProgressLine(TextWriter writer, int total)
{
    private const int Width = 30;
    private int _shownPercent = -1;

    public void Report(int done)
    {
        if (total < 20)
        {
            return;
        }

        var percent = done * 100 / total;
        if (percent == _shownPercent)
        {
            return;
        }

        _shownPercent = percent;
        var filled = done * Width / total;
        writer.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {done}/{total} ({percent}%)");
    }

    public void Done()
    {
        if (total >= 20)
        {
            writer.WriteLine();
        }
    }
}
