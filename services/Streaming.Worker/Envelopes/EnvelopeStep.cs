using Microsoft.Extensions.Options;
using Streaming.SchemaRegistry;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;
using Streaming.Worker.Telemetry;

namespace Streaming.Worker.Envelopes;

/// <summary>
/// Reads the event envelope, framed (Schema Registry) or plain. A record that is not an envelope is
/// poison: its verdict is set and it passes through untouched to be dead-lettered. A framed record whose
/// schema id the registry cannot answer for now is neither lost nor poison: it waits here, uncommitted,
/// like an open circuit, and is read again.
/// </summary>
internal sealed class EnvelopeStep(
    RecordValueReader reader, IOptions<WorkerOptions> options, WorkerTelemetry telemetry, TimeProvider time, ILogger<EnvelopeStep> logger) : IRecordStep
{
    private readonly TimeSpan _probe = options.Value.WaitProbe;

    public async Task InvokeAsync(RecordContext context, RecordDelegate next)
    {
        var ct = context.Cancellation;
        var read = await reader.ReadEnvelopeAsync(context.Record.Message.Value, ct);
        while (read.Outcome == ReadOutcome.SchemaUnresolved)
        {
            telemetry.SchemaUnresolved();
            logger.SchemaUnresolved(context.EventId, read.Error);
            await Task.Delay(_probe, time, ct);
            read = await reader.ReadEnvelopeAsync(context.Record.Message.Value, ct);
        }

        if (read.Outcome == ReadOutcome.Read)
        {
            context.Envelope = read.Value!;
            context.Body = read.Json!;
            context.EventId = read.Value!.EventId;
        }
        else
        {
            context.Verdict = new Verdict(VerdictKind.Poison, Error: "the value is not an event envelope (JSON with eventId, schemaVersion 1)");
        }

        await next(context);
    }
}
