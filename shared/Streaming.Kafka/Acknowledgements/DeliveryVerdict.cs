namespace Streaming.Kafka.Acknowledgements;

/// <summary>What a delivery report says about one record.</summary>
public enum DeliveryVerdict
{
    /// <summary>No error, status Persisted and a real offset: the record is on its partition.</summary>
    Stored,

    /// <summary>An error, or a status other than Persisted: the record may not be stored.</summary>
    Failed,

    /// <summary>
    /// No error and status Persisted, but no offset: librdkafka inferred the record was stored from a
    /// later request's success (an implicit acknowledgement) without the broker ever confirming it.
    /// </summary>
    Unverified,
}
