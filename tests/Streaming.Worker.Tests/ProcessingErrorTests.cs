using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts;
using Streaming.Testing;
using Streaming.Worker.Consuming;
using Streaming.Worker.Pipeline;
using Streaming.Worker.Processing;

namespace Streaming.Worker.Tests;

/// <summary>A processing exception that repeats no longer freezes its partition: the record is dead-lettered as processing-error.</summary>
public sealed class ProcessingErrorTests
{
    [Fact]
    public async Task A_record_whose_processing_always_throws_is_dead_lettered_and_the_partition_moves_on()
    {
        await using var scenario = await PipelineScenario.StartAsync();
        var config = scenario.WorkerSettings(Lane.Messages);
        var app = WorkerApp.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            // Registered before the worker's own handler, which is added only if none is.
            b.Services.AddSingleton<IRecordHandler>(sp => new ThrowingFor("wamid.bug", sp.GetRequiredService<RecordPipeline>()));
        });
        await app.StartAsync();
        try
        {
            string[] ids = ["wamid.bug", "wamid.after-1", "wamid.after-2"];
            scenario.Produce(Lane.Messages, ids.Select(id => (id, "4915550099")));

            Assert.Empty(await scenario.WaitSettledAsync(Lane.Messages, ids, TimeSpan.FromSeconds(60)));
            var letter = Assert.Single(scenario.DeadLetters(Lane.Messages)).Letter;
            Assert.Equal("wamid.bug", letter.EventId);
            Assert.Equal(DeadLetterReasons.ProcessingError, letter.Reason);
            Assert.Contains("InvalidOperationException", letter.Error);
            Assert.Equal(["wamid.after-1", "wamid.after-2"], scenario.Stub.Delivered.Order());
            await Poll.UntilAsync(() => scenario.Committed(Lane.Messages) == ids.Length, TimeSpan.FromSeconds(30), "the partition's commits to move past it");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private sealed class ThrowingFor(string eventId, RecordPipeline pipeline) : IRecordHandler
    {
        public Task<ProcessingOutcome> HandleAsync(ConsumeResult<string?, byte[]> record, CancellationToken ct) =>
            RetryState.Header(record.Message.Headers, HeaderNames.EventId) == eventId
                ? throw new InvalidOperationException("a bug in processing")
                : pipeline.HandleAsync(record, ct);
    }
}
