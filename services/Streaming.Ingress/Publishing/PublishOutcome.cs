namespace Streaming.Ingress.Publishing;

public enum PublishOutcome
{
    /// <summary>Every record was acknowledged by the cluster (acks=all).</summary>
    Stored,

    /// <summary>At least one record was refused or failed.</summary>
    Failed,

    /// <summary>
    /// A record was reported persisted without an offset: an implicit acknowledgement that librdkafka
    /// inferred and the broker never confirmed (see Streaming.Kafka.Acknowledgements.DeliveryRule).
    /// </summary>
    Unverified,

    /// <summary>The acknowledgements did not all arrive within the produce budget.</summary>
    TimedOut,

    /// <summary>The producer's local queue is full.</summary>
    QueueFull,

    /// <summary>Not attempted: the producer is saturated and the webhook carries only low-priority events.</summary>
    Shed,
}
