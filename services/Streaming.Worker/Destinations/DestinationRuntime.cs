using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Worker.Delivery;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Destinations;

/// <summary>The outcome of one event's turn at its destination; <see cref="Saturated"/> when it never got a slot.</summary>
internal sealed record DestinationAttempt(DeliveryResult Result, bool Saturated = false, TimeSpan? Duration = null);

/// <summary>
/// One destination's isolation: its own circuit breaker and per-attempt timeout (a Polly pipeline), its
/// adaptive concurrency limit, its optional rate limit, its Retry-After hold and a bound on the events
/// waiting for it. Nothing here blocks another destination: an event that cannot be attempted soon is
/// handed back at once for a retry tier. Lives as long as the process, across table reloads (by name).
/// </summary>
internal sealed class DestinationRuntime
{
    public const string HttpClientName = "destinations";

    /// <summary>A Retry-After beyond this is capped: the hold is only a pause, the retry tiers carry the wait.</summary>
    private static readonly TimeSpan MaxHold = TimeSpan.FromMinutes(30);

    private readonly DestinationsOptions _options;
    private readonly int _maxWaiting;
    private readonly IHttpClientFactory _clients;
    private readonly DestinationTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly AimdLimiter _limiter;
    private readonly object _applyLock = new();
    private TokenBucketRateLimiter? _rate;
    private double? _ratePerSecond;
    private long _openUntilTicks;
    private long _heldUntilTicks;
    private long _lastTraffic;
    private int _waiting;
    private long _latencyTicks;

    public DestinationRuntime(string name, DestinationsOptions options, WorkerOptions worker, IHttpClientFactory clients, DestinationTelemetry telemetry, TimeProvider time)
    {
        Name = name;
        _options = options;
        _maxWaiting = options.MaxWaiting ?? worker.MaxInFlight;
        _clients = clients;
        _telemetry = telemetry;
        _time = time;
        _limiter = new AimdLimiter(options.MaxInFlight, time);
        _lastTraffic = long.MinValue;
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
        telemetry.Track(name, () => State);
    }

    public string Name { get; }

    /// <summary>Open and within its break: events are not attempted (after the break one probe goes through).</summary>
    public bool IsOpen => _circuit.CircuitState is CircuitState.Open or CircuitState.Isolated && _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks);

    /// <summary>Whether an event was routed here within <paramref name="window"/>.</summary>
    public bool HadTrafficWithin(TimeSpan window)
    {
        var last = Interlocked.Read(ref _lastTraffic);
        return last != long.MinValue && _time.GetElapsedTime(last) < window;
    }

    internal DestinationState State => new(WorkerTelemetry.CircuitStateValue(_circuit.CircuitState), _limiter.Limit, _limiter.InFlight, Volatile.Read(ref _waiting));

    /// <summary>A table (re)load: this destination's ceiling and rate, which may have changed.</summary>
    public void Apply(Destination destination)
    {
        var ceiling = destination.MaxConcurrency ?? _options.MaxInFlight;
        if (_limiter.Ceiling != ceiling)
        {
            _limiter.SetCeiling(ceiling);
        }

        lock (_applyLock)
        {
            if (_ratePerSecond != destination.MaxRatePerSecond)
            {
                var old = _rate;
                _ratePerSecond = destination.MaxRatePerSecond;
                _rate = destination.MaxRatePerSecond is { } perSecond ? RateLimiter(perSecond, ceiling + _maxWaiting) : null;
                old?.Dispose();
            }
        }
    }

    public async Task<DestinationAttempt> DeliverAsync(Destination destination, Lane lane, string eventId, byte[] envelope, string? afterDeadLetter, CancellationToken ct)
    {
        Interlocked.Exchange(ref _lastTraffic, _time.GetTimestamp());
        if (NotNow() is { } refused)
        {
            return refused;
        }

        if (!await AdmitAsync(ct))
        {
            return Saturated();
        }

        var started = _time.GetTimestamp();
        var feedback = LimitFeedback.Neutral;
        try
        {
            // The circuit may have opened, or a Retry-After arrived, while this event waited.
            if (NotNow() is { } late)
            {
                return late;
            }

            var result = await SendAsync(destination.UrlFor(lane)!, destination.Signer!, eventId, envelope, afterDeadLetter, ct);
            feedback = FeedbackOf(result);
            if (result.RetryAfter is { } retryAfter && result.StatusCode is 429 or 503)
            {
                Hold(retryAfter);
            }

            if (result.Outcome == DeliveryOutcome.CircuitOpen)
            {
                // Another call is probing the half-open circuit: this one is not attempted.
                _telemetry.Failed(Name, DestinationTelemetry.Classes.CircuitOpen);
                return new DestinationAttempt(CircuitOpen);
            }

            var duration = _time.GetElapsedTime(started);
            Sampled(duration);
            _telemetry.Observed(Name, result, duration);
            return new DestinationAttempt(result, Duration: duration);
        }
        finally
        {
            _limiter.Release(feedback, started);
        }
    }

    /// <summary>Little's law: the wait of the n-th event in line, from the recent latency and the current limit.</summary>
    private TimeSpan ExpectedWait(int position)
    {
        var latency = Interlocked.Read(ref _latencyTicks);
        return latency == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(latency * position / Math.Max(1, _limiter.Limit));
    }

    /// <summary>An exponentially weighted moving average of attempt durations (1/8 per sample); races only blur it.</summary>
    private void Sampled(TimeSpan duration)
    {
        var old = Interlocked.Read(ref _latencyTicks);
        Interlocked.Exchange(ref _latencyTicks, old == 0 ? duration.Ticks : old + ((duration.Ticks - old) / 8));
    }

    private static readonly DeliveryResult CircuitOpen = new(DeliveryOutcome.Retryable, Error: "circuit open");

    /// <summary>Not attempted now: the circuit is open, or a Retry-After holds the destination.</summary>
    private DestinationAttempt? NotNow()
    {
        if (IsOpen)
        {
            _telemetry.Failed(Name, DestinationTelemetry.Classes.CircuitOpen);
            return new DestinationAttempt(CircuitOpen);
        }

        var heldFor = new DateTimeOffset(Interlocked.Read(ref _heldUntilTicks), TimeSpan.Zero) - _time.GetUtcNow();
        if (heldFor > TimeSpan.Zero)
        {
            _telemetry.Failed(Name, DestinationTelemetry.Classes.RetryAfter);
            return new DestinationAttempt(new DeliveryResult(DeliveryOutcome.Retryable, Error: "held by the destination's Retry-After", RetryAfter: heldFor));
        }

        return null;
    }

    private DestinationAttempt Saturated()
    {
        _telemetry.Failed(Name, DestinationTelemetry.Classes.Saturated);
        return new DestinationAttempt(new DeliveryResult(DeliveryOutcome.Retryable, Error: DeadLetterReasons.DestinationSaturated), Saturated: true);
    }

    private void Hold(TimeSpan retryAfter)
    {
        var until = (_time.GetUtcNow() + (retryAfter < MaxHold ? retryAfter : MaxHold)).UtcTicks;
        long current;
        while (until > (current = Interlocked.Read(ref _heldUntilTicks)) && Interlocked.CompareExchange(ref _heldUntilTicks, until, current) != current)
        {
        }
    }

    /// <summary>
    /// A slot of the adaptive limit (and a rate token): at once, or after waiting in memory, at most
    /// WORKER_DESTINATION_MAX_WAITING events and WORKER_DESTINATION_MAX_WAIT_MS each. False: saturated.
    /// </summary>
    private async Task<bool> AdmitAsync(CancellationToken ct)
    {
        var maxWait = TimeSpan.FromMilliseconds(_options.MaxWaitMs);
        var started = _time.GetTimestamp();
        if (!await _limiter.AcquireAsync(TimeSpan.Zero, ct))
        {
            var position = Interlocked.Increment(ref _waiting);
            if (position > _maxWaiting || ExpectedWait(position) > maxWait)
            {
                Interlocked.Decrement(ref _waiting);
                return false;
            }

            try
            {
                if (!await _limiter.AcquireAsync(maxWait, ct))
                {
                    return false;
                }
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        var rate = Volatile.Read(ref _rate);
        if (rate is null)
        {
            return true;
        }

        Interlocked.Increment(ref _waiting);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromTicks(Math.Max(0, (maxWait - _time.GetElapsedTime(started)).Ticks)));
        var acquired = false;
        try
        {
            using var lease = await rate.AcquireAsync(1, timeout.Token);
            acquired = lease.IsAcquired;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // Replaced by a reload: go ahead, the new limiter paces the next ones.
            acquired = true;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            if (!acquired)
            {
                _limiter.Release(LimitFeedback.Neutral, long.MinValue);
            }
        }

        return acquired;
    }

    private async Task<DeliveryResult> SendAsync(Uri url, StandardWebhooks signer, string eventId, byte[] envelope, string? afterDeadLetter, CancellationToken ct)
    {
        using var request = DeliveryClient.SignedRequest(url, signer, Name, eventId, envelope, _time.GetUtcNow().ToUnixTimeSeconds(), afterDeadLetter);
        var client = _clients.CreateClient(HttpClientName);
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

    private static TokenBucketRateLimiter RateLimiter(double perSecond, int queue)
    {
        // A token every 1/rate s, in steps of at most 100 ms: smooth pacing, exact for fractional rates.
        var tokens = Math.Max(1, (int)Math.Floor(perSecond / 10));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / perSecond),
            QueueLimit = Math.Max(1, queue),
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
