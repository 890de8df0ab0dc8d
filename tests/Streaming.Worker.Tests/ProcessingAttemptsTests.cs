using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Tests;

/// <summary>A processing exception is retried a few times, then the record is dead-lettered as processing-error.</summary>
public sealed class ProcessingAttemptsTests
{
    private static readonly ConsumeResult<string?, byte[]> Record = new()
    {
        TopicPartitionOffset = new TopicPartitionOffset("t.messages", 0, 5),
        Message = new Message<string?, byte[]> { Key = "k", Value = [] },
    };

    private static ProcessingAttempts Attempts() => new(3, TimeSpan.FromMilliseconds(1), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task A_repeatable_exception_is_tried_a_few_times_and_then_dead_lettered()
    {
        var tries = 0;
        Exception? deadLettered = null;
        await Attempts().RunAsync(Record, _ => { tries++; throw new InvalidOperationException("bug"); },
            (e, _, _) => { deadLettered = e; return Task.CompletedTask; }, CancellationToken.None);

        Assert.Equal(3, tries);
        Assert.IsType<InvalidOperationException>(deadLettered);
    }

    [Fact]
    public async Task A_passing_exception_is_not_dead_lettered()
    {
        var tries = 0;
        var deadLettered = false;
        await Attempts().RunAsync(Record, _ => ++tries < 2 ? throw new InvalidOperationException("once") : Task.CompletedTask,
            (_, _, _) => { deadLettered = true; return Task.CompletedTask; }, CancellationToken.None);

        Assert.Equal(2, tries);
        Assert.False(deadLettered);
    }

    [Fact]
    public async Task A_failing_dead_letter_is_tried_again_until_it_lands()
    {
        var deadLetterTries = 0;
        await Attempts().RunAsync(Record, _ => throw new InvalidOperationException("bug"),
            (_, _, _) => ++deadLetterTries < 3 ? throw new KafkaException(ErrorCode.Local_MsgTimedOut) : Task.CompletedTask, CancellationToken.None);

        Assert.Equal(3, deadLetterTries);
    }

    [Fact]
    public async Task Cancellation_is_not_a_processing_error()
    {
        var deadLettered = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Attempts().RunAsync(Record, _ => throw new OperationCanceledException(),
            (_, _, _) => { deadLettered = true; return Task.CompletedTask; }, CancellationToken.None));
        Assert.False(deadLettered);
    }
}
