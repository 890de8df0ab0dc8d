using System.Text.Json;
using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

/// <summary>A Dockerfile's instructions (continuation lines joined, comments dropped), with the final stage's facts.</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(string service, IReadOnlyList<(string Keyword, string Args)> instructions)
    {
        Service = service;
        Instructions = instructions;
    }

    public string Service { get; }

    public IReadOnlyList<(string Keyword, string Args)> Instructions { get; }

    /// <summary>Instructions of the final (runtime) stage.</summary>
    public IEnumerable<(string Keyword, string Args)> Runtime => Instructions.SkipWhile((_, i) => i < Instructions.ToList().FindLastIndex(x => x.Keyword == "FROM"));

    public IEnumerable<(string Keyword, string Args)> Build => Instructions.TakeWhile((_, i) => i < Instructions.ToList().FindLastIndex(x => x.Keyword == "FROM"));

    public string RuntimeImage => Runtime.First().Args.Split(' ')[0];

    public string[] Entrypoint => JsonSerializer.Deserialize<string[]>(Runtime.Last(x => x.Keyword == "ENTRYPOINT").Args)!;

    public string? User => Runtime.LastOrDefault(x => x.Keyword == "USER").Args;

    public IReadOnlyList<string> Exposed => Runtime.Where(x => x.Keyword == "EXPOSE").SelectMany(x => x.Args.Split(' ')).ToArray();

    /// <summary>ENV of the runtime stage (KEY=value pairs).</summary>
    public IReadOnlyDictionary<string, string> Env => Runtime.Where(x => x.Keyword == "ENV")
        .SelectMany(x => EnvPair().Matches(x.Args).Select(m => KeyValuePair.Create(m.Groups[1].Value, m.Groups[2].Value)))
        .ToDictionary();

    public string? Healthcheck => Runtime.LastOrDefault(x => x.Keyword == "HEALTHCHECK").Args;

    /// <summary>What the build stage copies from the context (the first operand of each COPY without --from).</summary>
    public IReadOnlyList<string> CopiedFromContext => Build.Where(x => x.Keyword == "COPY" && !x.Args.StartsWith("--from", StringComparison.Ordinal))
        .SelectMany(x => x.Args.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1)).ToArray();

    public string RunCommands(bool runtime) => string.Join('\n', (runtime ? Runtime : Build).Where(x => x.Keyword == "RUN").Select(x => x.Args));

    public static Dockerfile Of(string service)
    {
        var text = Repo.Read($"services/{service}/Dockerfile");
        var joined = text.Replace("\\\n", " ", StringComparison.Ordinal);
        var instructions = joined.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => Instruction().Match(l))
            .Where(m => m.Success)
            .Select(m => (m.Groups[1].Value.ToUpperInvariant(), Regex.Replace(m.Groups[2].Value, @"\s+#[^""]*$", "").Trim()))
            .ToArray();
        return new Dockerfile(service, instructions);
    }

    [GeneratedRegex(@"^([A-Za-z]+)\s+(.*)$")]
    private static partial Regex Instruction();

    [GeneratedRegex(@"([A-Z_][A-Z0-9_]*)=(\S*)")]
    private static partial Regex EnvPair();
}
