namespace Streaming.Worker.Ordering;

/// <summary>What to do with a status, given the highest rank of its message id delivered or in flight.</summary>
public enum StatusStep
{
    /// <summary>A higher-ranked status was delivered or is in flight: dropped, counted superseded.</summary>
    Supersede,

    /// <summary>
    /// Above what is known: its rank is written before the attempt, so that whoever reads a lower status of
    /// the message id next (this replica or a new owner, after a restart or a partition move) drops it.
    /// </summary>
    MarkThenAttempt,

    /// <summary>Nothing to write: <c>sent</c> (nothing ranks below it) or the same rank again (a retried copy).</summary>
    Attempt,
}

/// <summary>Status truth without I/O: ranks and the decision (<see cref="StatusTruth"/> does the reading and writing).</summary>
public static class StatusRanks
{
    /// <summary>sent &lt; delivered &lt; read; failed is terminal and ranks above them all; 0: not a status rank.</summary>
    public static int Rank(string? status) => status switch
    {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        _ => 0,
    };

    public static StatusStep Decide(int rank, StatusMark? known) =>
        known is not null && known.Rank > rank ? StatusStep.Supersede
        : rank > 1 && (known is null || rank > known.Rank) ? StatusStep.MarkThenAttempt
        : StatusStep.Attempt;
}
