using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Contracts;
using Streaming.Destinations;
using Streaming.Kafka;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Tests.Pipeline;

/// <summary>The pipeline runs its steps in order over one context; no broker.</summary>
public sealed class RecordPipelineTests
{
    private static readonly Topology Topology = Topology.Create(new TopologyOptions());
    private static readonly IOptions<WorkerOptions> Messages = Options.Create(new WorkerOptions { LaneName = "messages" });

    internal static ConsumeResult<string?, byte[]> Record(string eventId, string? phoneNumberId = "106540352242922", string topic = "whatsapp.messages") => new()
    {
        Topic = topic, Partition = 0, Offset = 7,
        Message = new Message<string?, byte[]>
        {
            Key = "4915550001",
            Value = JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope
            {
                EventId = eventId, Type = EventTypes.Message, Lane = LaneNames.Messages, WabaId = "waba", PhoneNumberId = phoneNumberId,
                ReceivedAt = DateTimeOffset.UtcNow, Payload = JsonDocument.Parse("{}").RootElement,
            }, ContractsJsonContext.Default.EventEnvelope),
            Headers = new Headers { { HeaderNames.EventId, Encoding.UTF8.GetBytes(eventId) } },
        },
    };

    private sealed class Recording(string name, List<string> log, Action<RecordContext>? act = null, bool callNext = true) : IRecordStep
    {
        public async Task InvokeAsync(RecordContext context, RecordDelegate next)
        {
            log.Add(name + ">");
            act?.Invoke(context);
            if (callNext)
            {
                await next(context);
            }

            log.Add("<" + name);
        }
    }

    [Fact]
    public async Task Steps_run_in_their_order_around_one_context_and_the_last_one_settles()
    {
        var log = new List<string>();
        var pipeline = new RecordPipeline(
        [
            new Recording("a", log),
            new Recording("b", log, c => c.Verdict = Verdict.Delivered),
            new Recording("settle", log, c => c.Outcome = ProcessingOutcome.Delivered),
        ], Topology, Messages);

        var outcome = await pipeline.HandleAsync(Record("wamid.1"), CancellationToken.None);
        Assert.Equal(ProcessingOutcome.Delivered, outcome);
        Assert.Equal(["a>", "b>", "settle>", "<settle", "<b", "<a"], log);
    }

    [Fact]
    public async Task A_record_no_step_settled_is_an_error_not_a_silent_commit()
    {
        var pipeline = new RecordPipeline([new Recording("a", [], callNext: false)], Topology, Messages);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.HandleAsync(Record("wamid.1"), CancellationToken.None));
    }

    [Fact]
    public void The_context_reads_the_retry_state_and_event_id_from_the_record()
    {
        var record = Record("wamid.ctx", topic: Topology[Lane.Messages].RetryTiers[1].Name);
        record.Message.Headers.Add(HeaderNames.Attempt, "2"u8.ToArray());
        var context = new RecordContext(record, Topology[Lane.Messages], CancellationToken.None);
        Assert.Equal("wamid.ctx", context.EventId);
        Assert.Equal(2, context.Retry.Attempts);
        Assert.Equal(1, context.Retry.Tier);
    }
}
