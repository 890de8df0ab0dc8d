namespace Streaming.Contracts;

/// <summary>Kafka record header names: part of the operator contract, do not rename.</summary>
public static class HeaderNames
{
    public const string EventId = "event-id";
    public const string EventType = "event-type";
    public const string ReceivedAt = "received-at";
    public const string TraceParent = "traceparent";

    // Added when a record moves to a retry tier.
    public const string Attempt = "attempt";
    public const string FirstFailedAt = "first-failed-at";
    public const string LastError = "last-error";
    public const string LastStatusCode = "last-status-code";
    public const string NotBefore = "not-before";
    public const string OriginTopic = "origin-topic";

    // Added when a record is dead-lettered: lets tools filter dead letters by reason without parsing the value.
    public const string DlqReason = "dlq-reason";

    // ORDERING=key: the chain of a blocked key (its head's event id), the record's place in it, the version of
    // the chain's progress it was moved with; on a follower released by a dead-lettered head, that head's
    // event id (also sent to the business as an HTTP header of the same name).
    public const string OrderChain = "order-chain";
    public const string OrderSeq = "order-seq";
    public const string OrderVersion = "order-version";
    public const string AfterDeadLetter = "after-dead-letter";

    /// <summary>The destination (DESTINATIONS_FILE name, or <c>default</c>) a worker routed the event to: on retry and dead-letter records.</summary>
    public const string Destination = "destination";

    // Added by streamctl when a dead letter is replayed.
    public const string ReplayedFrom = "replayed-from";
}
