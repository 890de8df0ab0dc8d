namespace Streaming.Contracts;

/// <summary>Values of the envelope's <c>type</c> and of the <c>event-type</c> header.</summary>
public static class EventTypes
{
    /// <summary>An item of <c>value.messages[]</c>.</summary>
    public const string Message = "message";

    /// <summary>An item of <c>value.statuses[]</c>.</summary>
    public const string Status = "status";

    /// <summary>The <c>value.errors[]</c> of a change that carries neither messages nor statuses.</summary>
    public const string Errors = "errors";

    // Any other change is typed by its field name (e.g. message_template_status_update).
}
