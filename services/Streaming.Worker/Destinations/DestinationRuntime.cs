using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Worker.Admission;
using Streaming.Worker.Delivery;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>
/// One destination's isolation: its own circuit breaker and per-attempt timeout (a Polly pipeline), its
/// adaptive concurrency limit and its place in the lane's fair budget, its optional rate limit and its
/// Retry-After hold. Nothing here blocks another destination. Lives across table reloads (by name) while
/// the destination is in the table; dropped, with its metric series, when a reload removes it.
/// </summary>
internal sealed class DestinationRuntime : IDisposable
{
    private readonly DestinationsOptions _options;
    private readonly int _maxWaiting;
    private readonly FairAdmission _admission;
    private readonly TimeSpan _retryAfterMax;
    private readonly TimeSpan _latencyTarget;
    private readonly IHttpClientFactory _clients;
    private readonly DestinationTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly AdaptiveLimit _limit;
    private readonly FairAdmission.Tenant _tenant;
    private Pacer? _rate;
    private long _openUntilTicks;
    private long _heldUntilTicks;
    private long _lastTraffic = long.MinValue;
    private long _latencyTicks;
    private int _pacing;

    public DestinationRuntime(
        Destination destination, DestinationsOptions options, WorkerOptions worker, FairAdmission admission, IHttpClientFactory clients,
        DestinationTelemetry telemetry, TimeProvider time)
    {
        Name = destination.Name;
        _options = options;
        _maxWaiting = options.MaxWaiting ?? worker.MaxBuffered;
        _admission = admission;
        _retryAfterMax = TimeSpan.FromSeconds(worker.RetryAfterMaxSeconds);
        _clients = clients;
        _telemetry = telemetry;
        _time = time;
        _limit = new AdaptiveLimit(CeilingOf(destination), TimeSpan.FromMilliseconds(options.LatencyTargetMs), time);
        _latencyTarget = TimeSpan.FromMilliseconds(options.LatencyTargetMs);
        _tenant = admission.Join(Name, () => _limit.Limit, () => Interlocked.Read(ref _latencyTicks) is > 0 and var latency ? latency <= _latencyTarget.Ticks : null);
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = worker.CircuitFailureRatio,
                MinimumThroughput = worker.CircuitMinThroughput,
                SamplingDuration = TimeSpan.FromSeconds(worker.CircuitSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(worker.CircuitBreakSeconds),
                StateProvider = _circuit,
                OnOpened = args =>
                {
                    Interlocked.Exchange(ref _openUntilTicks, (_time.GetUtcNow() + args.BreakDuration).UtcTicks);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromMilliseconds(worker.DeliveryTimeoutMs))
            .Build();
        Apply(destination);
        telemetry.Track(Name, () => State);
    }

    public string Name { get; }

    /// <summary>Open and within its break: events are not attempted (after the break one probe goes through).</summary>
    public bool IsOpen => _circuit.CircuitState is CircuitState.Open or CircuitState.Isolated && _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks);

    public int CircuitValue => WorkerTelemetry.CircuitStateValue(_circuit.CircuitState);

    /// <summary>Whether an event was routed here within <paramref name="window"/>.</summary>
    public bool HadTrafficWithin(TimeSpan window)
    {
        var last = Interlocked.Read(ref _lastTraffic);
        return last != long.MinValue && _time.GetElapsedTime(last) < window;
    }

    internal DestinationState State => new(CircuitValue, _limit.Limit, _tenant.Held, _tenant.Waiting + Volatile.Read(ref _pacing));

    /// <summary>A table (re)load: this destination's ceiling and rate, which may have changed.</summary>
    public void Apply(Destination destination)
    {
        var ceiling = CeilingOf(destination);
        if (_limit.Ceiling != ceiling)
        {
            _limit.SetCeiling(ceiling);
        }

        if (Volatile.Read(ref _rate)?.PerSecond != destination.MaxRatePerSecond)
        {
            Volatile.Write(ref _rate, destination.MaxRatePerSecond is { } perSecond ? new Pacer(perSecond, _time) : null);
        }
    }

    /// <summary>Not attempted now: the circuit is open, or a Retry-After holds the destination.</summary>
    public Verdict? NotNow()
    {
        Interlocked.Exchange(ref _lastTraffic, _time.GetTimestamp());
        if (IsOpen)
        {
            _telemetry.Failed(Name, DestinationTelemetry.Classes.CircuitOpen);
            return new Verdict(VerdictKind.CircuitOpen, Error: "circuit open");
        }

        var heldFor = new DateTimeOffset(Interlocked.Read(ref _heldUntilTicks), TimeSpan.Zero) - _time.GetUtcNow();
        if (heldFor > TimeSpan.Zero)
        {
            _telemetry.Failed(Name, DestinationTelemetry.Classes.RetryAfter);
            return new Verdict(VerdictKind.Held, Error: "held by the destination's Retry-After", RetryAfter: heldFor);
        }

        return null;
    }

    /// <summary>
    /// A rate token (maxRatePerSecond), waiting at most WORKER_DESTINATION_MAX_WAIT_MS. The wait holds no
    /// slot of the lane's budget. False: saturated.
    /// </summary>
    public async Task<bool> PaceAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _rate) is not { } rate)
        {
            return true;
        }

        Interlocked.Increment(ref _pacing);
        try
        {
            return await rate.WaitAsync(_admission.Alone ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(_options.MaxWaitMs), ct);
        }
        finally
        {
            Interlocked.Decrement(ref _pacing);
        }
    }

    /// <summary>
    /// A slot of the lane's budget within this destination's limit and fair share: at once, or after
    /// waiting at most WORKER_DESTINATION_MAX_WAIT_MS behind at most WORKER_DESTINATION_MAX_WAITING others.
    /// An event whose expected wait is longer does not wait at all. Null: saturated.
    /// </summary>
    public async ValueTask<FairAdmission.Slot?> EnterAsync(CancellationToken ct)
    {
        if (_admission.Alone)
        {
            // The lane's one endpoint: its events wait for it (bounded by WORKER_MAX_BUFFERED), as before destinations.
            return await _tenant.EnterAsync(int.MaxValue, Timeout.InfiniteTimeSpan, ct);
        }

        var maxWait = TimeSpan.FromMilliseconds(_options.MaxWaitMs);
        var slot = await _tenant.EnterAsync(_maxWaiting, ExpectedWait(_tenant.Waiting + 1) > maxWait ? TimeSpan.Zero : maxWait, ct);
        if (slot is null)
        {
            _telemetry.Failed(Name, DestinationTelemetry.Classes.Saturated);
        }

        return slot;
    }

    /// <summary>One attempt, holding a slot: the answer feeds the limit, the hold, the latency and the metrics.</summary>
    public async Task<(DeliveryResult Result, TimeSpan? Duration)> SendAsync(Uri url, StandardWebhooks signer, string eventId, byte[] envelope, string? afterDeadLetter, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var result = await SendOnceAsync(url, signer, eventId, envelope, afterDeadLetter, ct);
        var duration = _time.GetElapsedTime(started);
        _limit.Observe(FeedbackOf(result), started, duration);
        if (result.RetryAfter is { } retryAfter && result.StatusCode is 429 or 503)
        {
            Hold(retryAfter);
        }

        if (result.Outcome == DeliveryOutcome.CircuitOpen)
        {
            // Another call is probing the half-open circuit: this one was not attempted.
            _telemetry.Failed(Name, DestinationTelemetry.Classes.CircuitOpen);
            return (result, null);
        }

        Sampled(duration);
        _telemetry.Observed(Name, result, duration);
        return (result, duration);
    }

    public void Dispose() => _telemetry.Untrack(Name);

    private int CeilingOf(Destination destination) => destination.MaxConcurrency ?? _options.MaxInFlight;

    /// <summary>Little's law: the wait of the n-th event in line, from the recent latency and the slots it may hold.</summary>
    private TimeSpan ExpectedWait(int position)
    {
        var latency = Interlocked.Read(ref _latencyTicks);
        return latency == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(latency * position / Math.Max(1, Math.Min(_limit.Limit, _tenant.Share)));
    }

    /// <summary>An exponentially weighted moving average of attempt durations (1/8 per sample); races only blur it.</summary>
    private void Sampled(TimeSpan duration)
    {
        var old = Interlocked.Read(ref _latencyTicks);
        Interlocked.Exchange(ref _latencyTicks, old == 0 ? duration.Ticks : old + ((duration.Ticks - old) / 8));
    }

    private void Hold(TimeSpan retryAfter)
    {
        // The hold is only a pause of this destination; the tiers carry the wait (SettlePolicy caps both alike).
        var capped = retryAfter < _retryAfterMax ? retryAfter : _retryAfterMax;
        var until = (_time.GetUtcNow() + capped).UtcTicks;
        long current;
        while (until > (current = Interlocked.Read(ref _heldUntilTicks)) && Interlocked.CompareExchange(ref _heldUntilTicks, until, current) != current)
        {
        }
    }

    private async Task<DeliveryResult> SendOnceAsync(Uri url, StandardWebhooks signer, string eventId, byte[] envelope, string? afterDeadLetter, CancellationToken ct)
    {
        using var request = DeliveryClient.SignedRequest(url, signer, Name, eventId, envelope, _time.GetUtcNow().ToUnixTimeSeconds(), afterDeadLetter);
        var client = _clients.CreateClient(DeliveryClient.HttpClientName);
        try
        {
            using var response = await _pipeline.ExecuteAsync(
                static async (state, token) => await state.client.SendAsync(state.request, HttpCompletionOption.ResponseHeadersRead, token),
                (client, request), ct);
            return DeliveryClient.Classify(response, _time.GetUtcNow());
        }
        catch (BrokenCircuitException)
        {
            return DeliveryResult.CircuitOpen;
        }
        catch (TimeoutRejectedException)
        {
            return new DeliveryResult(DeliveryOutcome.Retryable, Error: DeliveryClient.TimedOut);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryResult(DeliveryOutcome.Retryable, Error: $"connection error: {e.Message}");
        }
    }

    private static LimitFeedback FeedbackOf(DeliveryResult result) => result switch
    {
        { Outcome: DeliveryOutcome.Delivered } => LimitFeedback.Success,
        { StatusCode: (int)HttpStatusCode.TooManyRequests or (int)HttpStatusCode.ServiceUnavailable } => LimitFeedback.Overload,
        { Outcome: DeliveryOutcome.Retryable, StatusCode: null } => LimitFeedback.Overload,
        _ => LimitFeedback.Neutral,
    };
}
