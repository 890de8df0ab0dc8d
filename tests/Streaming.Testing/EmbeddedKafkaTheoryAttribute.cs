using Xunit;

namespace Streaming.Testing;

/// <summary>The theory form of <see cref="EmbeddedKafkaFactAttribute"/>: skipped, with the reason, off the embedded cluster.</summary>
public sealed class EmbeddedKafkaTheoryAttribute : TheoryAttribute
{
    public EmbeddedKafkaTheoryAttribute()
    {
        if (KafkaBroker.ExpectedKind != BrokerKind.Embedded)
        {
            Skip = $"injects faults through librdkafka's mock API; the broker here is {KafkaBroker.ExpectedKind} (TEST_KAFKA=embedded runs it)";
        }
    }
}
