namespace Streaming.Worker.Ordering;

/// <summary>
/// Why the worker settled a record without delivering it and without dead-lettering it (label <c>reason</c>
/// of <c>whatsapp_worker_not_delivered_total</c>). Nothing else is ever settled that way.
/// </summary>
public static class NotDeliveredReasons
{
    /// <summary>A copy of a record already handed into its chain (the main record read again after a crash).</summary>
    public const string Duplicate = "duplicate";

    /// <summary>A status below a higher-ranked status of the same message id, delivered or in flight.</summary>
    public const string Superseded = "superseded";

    /// <summary>A chain member whose place in the chain is already settled (a second copy of one forward).</summary>
    public const string AlreadySettled = "already-settled";

    public static readonly IReadOnlyList<string> All = [Duplicate, Superseded, AlreadySettled];
}
