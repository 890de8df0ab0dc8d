using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Destinations;

namespace Streaming.Worker.Destinations;

/// <summary>
/// The routing table in force. Re-reads DESTINATIONS_FILE and the secret files it names every
/// DESTINATIONS_RELOAD_SECONDS and compares their contents, not mtimes or file events: a Kubernetes
/// ConfigMap or Secret update swaps a symlink, which FileSystemWatcher does not reliably report. A
/// changed file is validated whole; valid, it replaces the table at once (in-flight deliveries finish
/// with the one they started with); invalid, the last good table stays, with a log line and a metric.
/// </summary>
public sealed class DestinationTableSource : BackgroundService
{
    private readonly DestinationsOptions _options;
    private readonly Lane _lane;
    private readonly Destination? _default;
    private readonly DestinationRuntimes _runtimes;
    private readonly DestinationTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger<DestinationTableSource> _logger;
    private DestinationTable _current;
    private byte[] _fingerprint = [];

    public DestinationTableSource(
        IOptions<DestinationsOptions> options, IOptions<WorkerOptions> worker, DestinationRuntimes runtimes, DestinationTelemetry telemetry,
        TimeProvider time, ILogger<DestinationTableSource> logger)
    {
        _options = options.Value;
        _lane = worker.Value.Lane;
        _default = DefaultDestination(worker.Value, alone: !_options.Enabled);
        _runtimes = runtimes;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _current = DestinationTable.Empty.WithDefault(_default);
        if (_options.Enabled)
        {
            var (result, fingerprint) = Read();
            if (result.Table is null)
            {
                // Validated at start-up already; the file changed in between.
                throw new OptionsValidationException(nameof(DestinationsOptions), typeof(DestinationsOptions), [$"DESTINATIONS_FILE {_options.File}: {result.Summary}"]);
            }

            _fingerprint = fingerprint;
            Apply(result.Table);
        }
        else
        {
            _runtimes.Apply(_current, _lane);
        }
    }

    public DestinationTable Current => Volatile.Read(ref _current);

    /// <summary>
    /// DELIVERY_URL + DELIVERY_SIGNING_SECRET as the destination <c>default</c>, when DELIVERY_URL is set.
    /// <paramref name="alone"/> (no table): the lane's one endpoint may use the lane's whole budget, as before.
    /// </summary>
    public static Destination? DefaultDestination(WorkerOptions worker, bool alone = false) =>
        Uri.TryCreate(worker.DeliveryUrl, UriKind.Absolute, out var url) && StandardWebhooks.TryParseSecret(worker.SigningSecret, out _, out _)
            ? new Destination
            {
                Name = Destination.DefaultName, MessagesUrl = url, StatusesUrl = url, SecretSource = SecretSource.Environment,
                Signer = new StandardWebhooks(worker.SigningSecret),
                MaxConcurrency = alone ? worker.MaxInFlight : null,
            }
            : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.ReloadSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Poll();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One look at the files; internal so tests can drive it.</summary>
    internal void Poll()
    {
        var (result, fingerprint) = Read();
        if (fingerprint.AsSpan().SequenceEqual(_fingerprint))
        {
            return;
        }

        _fingerprint = fingerprint;
        if (result.Table is { } table)
        {
            Apply(table);
            _telemetry.TableApplied();
        }
        else
        {
            _logger.TableRefused(_options.File!, result.Summary);
            _telemetry.TableRefused(result.Problems);
        }
    }

    private void Apply(DestinationTable table)
    {
        var withDefault = table.WithDefault(_default);
        _runtimes.Apply(withDefault, _lane);
        Volatile.Write(ref _current, withDefault);
        _logger.TableApplied(_options.File!, table.Destinations.Count, string.Join(",", table.Destinations.Select(d => d.Name)),
            _default is null ? "none (unmatched events are dead-lettered as unroutable)" : "DELIVERY_URL");
    }

    /// <summary>Parses the file, and fingerprints its bytes and every secret file it read, so a rotated secret counts as a change.</summary>
    private (DestinationFileResult Result, byte[] Fingerprint) Read()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string text;
        try
        {
            text = File.ReadAllText(_options.File!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            hash.AppendData(Encoding.UTF8.GetBytes("unreadable:" + e.GetType().Name));
            return (new DestinationFileResult(null, [new DestinationProblem(DestinationProblem.Unreadable, $"cannot read {_options.File}: {e.Message}")]), hash.GetHashAndReset());
        }

        hash.AppendData(Encoding.UTF8.GetBytes(text));
        var directory = Path.GetDirectoryName(Path.GetFullPath(_options.File!)) ?? ".";
        var result = DestinationFile.Parse(text, file =>
        {
            var secret = File.ReadAllText(Path.Combine(directory, file));
            hash.AppendData(Encoding.UTF8.GetBytes($"\n{file}\n{secret}"));
            return secret;
        }, directory);
        return (result, hash.GetHashAndReset());
    }
}
