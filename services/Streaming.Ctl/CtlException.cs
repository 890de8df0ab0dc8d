namespace Streaming.Ctl;

/// <summary>An error the operator can act on: printed as one line, with a non-zero exit code, no stack trace.</summary>
public sealed class CtlException(string message, int exitCode = CtlException.Usage) : Exception(message)
{
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int Refused = 4;

    public int ExitCode { get; } = exitCode;
}
