using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Streaming.Ctl.Metrics;
using Streaming.Destinations;

namespace Streaming.Ctl.Commands;

/// <summary>One lane's live state of a destination, summed over the workers asked.</summary>
public sealed record DestinationLiveView(string Lane, string Circuit, int Limit, int InFlight, int Workers);

/// <summary>What `destinations list --json` gives per destination. There is no field for the secret: only where it comes from.</summary>
public sealed record DestinationView(
    string Name, IReadOnlyList<string> PhoneNumberIds, IReadOnlyList<string> WabaIds, string? MessagesUrl, string? StatusesUrl,
    string Secret, string? SecretFile, int? MaxConcurrency, double? MaxRatePerSecond, IReadOnlyList<DestinationLiveView>? Live);

[JsonSerializable(typeof(IReadOnlyList<DestinationView>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
internal sealed partial class DestinationsJsonContext : JsonSerializerContext;

internal static class DestinationsCommands
{
    /// <summary>Needs no Kafka: only the file and, for live state, the workers' /metrics.</summary>
    public static Command Create(IConfiguration configuration, TextWriter stdout) =>
        new("destinations", "The destinations table (DESTINATIONS_FILE) and its live state")
        {
            List(configuration, stdout),
        };

    private static Command List(IConfiguration configuration, TextWriter stdout)
    {
        var json = new Option<bool>("--json") { Description = "JSON for scripts instead of a table" };
        var metrics = new Option<string[]>("--worker-metrics")
        {
            Description = "workers' /metrics URLs: add each destination's circuit, concurrency limit and in flight (default: WORKER_METRICS_URLS)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("list", "Each destination's name, matches and URLs (never its secret)") { json, metrics };
        command.SetAction(async (parse, ct) =>
        {
            var path = configuration["DESTINATIONS_FILE"];
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new CtlException("DESTINATIONS_FILE is not set: every lane delivers to its one DELIVERY_URL (the destination default)");
            }

            // Secret files need not be readable here: only where each secret comes from is shown.
            var result = DestinationFile.Load(path, readSecrets: false);
            if (result.Table is not { } table)
            {
                throw new CtlException($"DESTINATIONS_FILE {path}: {result.Summary}");
            }

            var urls = parse.GetValue(metrics) is { Length: > 0 } given ? given
                : (configuration["WORKER_METRICS_URLS"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var live = urls.Length == 0 ? null : await LiveAsync(urls, ct);
            var views = table.Destinations.Select(d => View(d, live)).ToList();
            if (live is not null && live.ContainsKey(Destination.DefaultName))
            {
                views.Add(new DestinationView(Destination.DefaultName, [], [], null, null, "DELIVERY_SIGNING_SECRET", null, null, null, live[Destination.DefaultName]));
            }

            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize<IReadOnlyList<DestinationView>>(views, DestinationsJsonContext.Default.IReadOnlyListDestinationView));
                return 0;
            }

            var tableView = new Table().AddColumns("name", "matches", "messages url", "statuses url", "secret", "max concurrency", "max rate/s");
            if (live is not null)
            {
                tableView.AddColumns("circuit", "limit", "in flight");
            }

            foreach (var v in views)
            {
                var matches = v.Name == Destination.DefaultName ? "(unmatched events)" : Matches(v);
                var row = new List<string>
                {
                    v.Name, Markup.Escape(matches), Markup.Escape(v.MessagesUrl ?? "-"), Markup.Escape(v.StatusesUrl ?? "-"),
                    Markup.Escape(v.SecretFile is null ? v.Secret : $"file {v.SecretFile}"),
                    v.MaxConcurrency?.ToString() ?? (v.Name == Destination.DefaultName ? "-" : "default"), v.MaxRatePerSecond?.ToString("0.##") ?? "-",
                };
                if (live is not null)
                {
                    var lanes = v.Live ?? [];
                    row.Add(lanes.Count == 0 ? "no data" : string.Join(" ", lanes.Select(l => $"{l.Lane}={l.Circuit}")));
                    row.Add(string.Join(" ", lanes.Select(l => $"{l.Lane}={l.Limit}")));
                    row.Add(string.Join(" ", lanes.Select(l => $"{l.Lane}={l.InFlight}")));
                }

                tableView.AddRow(row.ToArray());
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors,
            });
            console.Profile.Width = 200;
            console.Write(tableView);
            stdout.WriteLine($"{table.Destinations.Count} destinations from {path}; unmatched events go to each lane's default (DELIVERY_URL), or to the DLQ as unroutable where a worker has none");
            return 0;
        });
        return command;
    }

    private static DestinationView View(Destination d, IReadOnlyDictionary<string, IReadOnlyList<DestinationLiveView>>? live) =>
        new(d.Name, d.PhoneNumberIds, d.WabaIds, d.MessagesUrl?.ToString(), d.StatusesUrl?.ToString(),
            d.SecretSource == SecretSource.File ? "file" : "inline", d.SecretFile, d.MaxConcurrency, d.MaxRatePerSecond,
            live is null ? null : live.GetValueOrDefault(d.Name) ?? []);

    private static string Matches(DestinationView v)
    {
        var parts = new List<string>();
        if (v.PhoneNumberIds.Count > 0)
        {
            parts.Add("phone " + string.Join(",", v.PhoneNumberIds));
        }

        if (v.WabaIds.Count > 0)
        {
            parts.Add("waba " + string.Join(",", v.WabaIds));
        }

        return parts.Count == 0 ? "(nothing)" : string.Join("; ", parts);
    }

    /// <summary>Per destination and lane: the worst circuit, the summed limits and in-flight counts of the workers.</summary>
    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<DestinationLiveView>>> LiveAsync(IEnumerable<string> urls, CancellationToken ct)
    {
        var samples = new List<MetricSample>();
        foreach (var url in urls)
        {
            samples.AddRange((await WorkerMetrics.ScrapeAsync(url, ct)).Select(s => s with
            {
                Labels = new Dictionary<string, string>(s.Labels) { ["__worker"] = url },
            }));
        }

        return samples
            .Where(s => s.Name is WorkerMetrics.DestinationCircuit or WorkerMetrics.DestinationLimit or WorkerMetrics.DestinationInFlight
                && s.Label("destination") is not null && s.Label("lane") is not null)
            .GroupBy(s => s.Label("destination")!)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<DestinationLiveView>)g.GroupBy(s => s.Label("lane")!).OrderBy(l => l.Key).Select(l =>
            {
                var circuit = l.Where(s => s.Name == WorkerMetrics.DestinationCircuit).Select(s => s.Value).DefaultIfEmpty(0).Max();
                return new DestinationLiveView(l.Key, circuit >= 2 ? "open" : circuit >= 1 ? "half-open" : "closed",
                    (int)l.Where(s => s.Name == WorkerMetrics.DestinationLimit).Sum(s => s.Value),
                    (int)l.Where(s => s.Name == WorkerMetrics.DestinationInFlight).Sum(s => s.Value),
                    l.Select(s => s.Label("__worker")).Distinct().Count());
            }).ToArray(), StringComparer.Ordinal);
    }
}
