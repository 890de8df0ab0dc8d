namespace Streaming.Ingress.Publishing;

public enum PublishOutcome
{
    /// <summary>Every record was acknowledged by the cluster (acks=all).</summary>
    Stored,

    /// <summary>At least one record was refused or failed.</summary>
    Failed,

    /// <summary>The acknowledgements did not all arrive within the produce budget.</summary>
    TimedOut,

    /// <summary>The producer's local queue is full.</summary>
    QueueFull,

    /// <summary>Not attempted: the producer is saturated and the webhook carries only low-priority events.</summary>
    Shed,
}
