using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Streaming.Worker.Tests;

/// <summary>
/// The worker's folders depend one way only: a newcomer can read a folder knowing only the ones below it.
/// Edges are the <c>using Streaming.Worker.X</c> directives and fully qualified references in each folder.
/// </summary>
public sealed partial class FolderDependencyTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"\bStreaming\.Worker\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex Reference();

    private static string WorkerSource()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Streaming.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Streaming.sln not found above the test binaries"), "services", "Streaming.Worker");
    }

    internal static Dictionary<string, HashSet<string>> Graph()
    {
        var root = WorkerSource();
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj" or "Properties")).OfType<string>().ToHashSet();
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                foreach (Match m in Reference().Matches(File.ReadAllText(file)))
                {
                    var target = m.Groups[1].Value;
                    if (target != folder && folders.Contains(target))
                    {
                        graph[folder].Add(target);
                    }
                }
            }
        }

        return graph;
    }

    [Fact]
    public void The_worker_folders_form_no_cycle()
    {
        var graph = Graph();
        foreach (var (folder, targets) in graph.OrderBy(kv => kv.Key))
        {
            output.WriteLine($"{folder} -> {string.Join(", ", targets.Order())}");
        }

        var state = new Dictionary<string, int>();
        var path = new Stack<string>();
        foreach (var folder in graph.Keys)
        {
            Visit(folder);
        }

        void Visit(string node)
        {
            if (state.GetValueOrDefault(node) == 2)
            {
                return;
            }

            Assert.False(state.GetValueOrDefault(node) == 1, "cycle: " + string.Join(" -> ", path.Reverse().Append(node)));
            state[node] = 1;
            path.Push(node);
            foreach (var next in graph[node])
            {
                Visit(next);
            }

            path.Pop();
            state[node] = 2;
        }
    }

    [Theory]
    [InlineData("Consuming", "Pipeline")]
    [InlineData("Consuming", "Destinations")]
    [InlineData("Consuming", "Ordering")]
    [InlineData("Delivery", "Destinations")]
    [InlineData("Processing", "Destinations")]
    [InlineData("Pipeline", "Destinations")]
    [InlineData("Pipeline", "Ordering")]
    public void A_lower_folder_never_reads_a_higher_one(string lower, string higher) =>
        Assert.DoesNotContain(higher, Graph()[lower]);
}
