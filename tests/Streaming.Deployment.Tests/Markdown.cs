using System.Text.RegularExpressions;

namespace Streaming.Deployment.Tests;

public static partial class Markdown
{
    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.</summary>
    public static IReadOnlySet<string> Anchors(string markdown) =>
        Heading().Matches(markdown)
            .Select(m => Punctuation().Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-'))
            .ToHashSet();

    /// <summary>Relative link targets outside fenced code, e.g. "scaling.md#keda" or "../k8s/base/secret.example.yaml".</summary>
    public static IEnumerable<string> RelativeLinks(string markdown) =>
        Link().Matches(CodeBlock().Replace(markdown, ""))
            .Select(m => m.Groups[1].Value)
            .Where(target => !target.Contains("://", StringComparison.Ordinal) && !target.StartsWith("mailto:", StringComparison.Ordinal));

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{N} _-]")]
    private static partial Regex Punctuation();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"```.*?```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
