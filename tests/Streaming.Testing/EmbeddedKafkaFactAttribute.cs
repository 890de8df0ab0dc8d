using Xunit;

namespace Streaming.Testing;

/// <summary>
/// A test that injects broker faults through the mock API, which only the embedded cluster has.
/// Against another broker it is reported as skipped, with the reason, never silently passed.
/// </summary>
public sealed class EmbeddedKafkaFactAttribute : FactAttribute
{
    public EmbeddedKafkaFactAttribute()
    {
        if (KafkaBroker.ExpectedKind != BrokerKind.Embedded)
        {
            Skip = $"injects faults through librdkafka's mock API; the broker here is {KafkaBroker.ExpectedKind} (TEST_KAFKA=embedded runs it)";
        }
    }
}
