using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Streaming.Benchmarks.Benchmarks;
using Streaming.Benchmarks.Infrastructure;
using Streaming.Benchmarks.Load;
using Streaming.Testing;

// make bench: runs the benchmarks (all, or those named), prints markdown tables and writes one JSON file
// per benchmark plus results.md. The exit code says only whether a benchmark crashed, never how fast it was.
IBenchmark[] all =
[
    new IngressHttpBenchmark(),
    new ProduceCeilingBenchmark(),
    new PriorityIsolationBenchmark(),
    new WorkerDeliveryBenchmark(),
    new RetryBenchmark(),
    new ResourceBenchmark(),
    new ReplicaScalingBenchmark(),
    new OrderingBenchmark(),
    new DestinationIsolationBenchmark(),
];

var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
if (args.Contains("--help") || args.Contains("-h") || (outIndex >= 0 && outIndex == args.Length - 1))
{
    Console.WriteLine("usage: Streaming.Benchmarks [--quick] [--out DIR] [name ...]");
    Console.WriteLine("names: " + string.Join(", ", all.Select(b => b.Name)));
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
}

var names = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (outIndex < 0 || i != outIndex + 1)).ToArray();
var unknown = names.Where(n => all.All(b => b.Name != n)).ToArray();
if (unknown.Length > 0)
{
    Console.Error.WriteLine($"unknown benchmark(s): {string.Join(", ", unknown)}; known: {string.Join(", ", all.Select(b => b.Name))}");
    return 2;
}

var output = outIndex >= 0 ? Path.GetFullPath(args[outIndex + 1])
    : Path.Combine(Fixtures.RepositoryRoot, quick ? "artifacts/bench-quick" : "docs/benchmarks");
var options = new BenchOptions(quick, output);
Directory.CreateDirectory(output);

var machine = MachineInfo.Collect(HttpLoad.Generator, KafkaBroker.ExpectedKind.ToString());
Console.WriteLine($"# Benchmarks{(quick ? " (--quick smoke run: numbers are not meaningful)" : "")}");
Console.WriteLine();
Console.WriteLine($"Machine: {machine.Summary}");
Console.WriteLine();

var selected = names.Length == 0 ? all : all.Where(b => names.Contains(b.Name)).ToArray();
var markdown = new StringBuilder();
var crashed = 0;
foreach (var benchmark in selected)
{
    var report = new BenchReport(benchmark.Name, benchmark.Title);
    var clock = Stopwatch.StartNew();
    Console.Error.WriteLine($"[bench] {benchmark.Name}: running ...");
    try
    {
        var run = benchmark.RunAsync(report, options);
        var budget = quick ? TimeSpan.FromSeconds(benchmark.Budget.TotalSeconds / 2) : benchmark.Budget;
        if (await Task.WhenAny(run, Task.Delay(budget)) != run)
        {
            report.Error = $"abandoned after {budget.TotalSeconds:0} s (tables hold what finished before)";
            crashed++;
        }
        else
        {
            await run;
        }
    }
    catch (Exception e)
    {
        report.Error = $"{e.GetType().Name}: {e.Message}";
        Console.Error.WriteLine(e);
        crashed++;
    }

    report.Duration = clock.Elapsed;
    var text = report.ToMarkdown();
    Console.WriteLine(text);
    markdown.AppendLine(text);
    var json = report.ToJson(machine, options);
    await File.WriteAllTextAsync(Path.Combine(output, $"{benchmark.Name}.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
}

await File.WriteAllTextAsync(Path.Combine(output, "results.md"),
    $"# Benchmark results\n\nMachine: {machine.Summary}\n\nReproduce: `make bench`{(quick ? " (this was `--quick`)" : "")}\n\n{markdown}");
Console.Error.WriteLine($"[bench] wrote {output}");

// A Testcontainers broker (only where Docker answers) stops with the run, as in the tests.
await KafkaBroker.DisposeSharedContainerAsync();

// Abandoned runs may still hold threads (a consumer's Close, a broker): leave without waiting for them.
Environment.Exit(crashed == 0 ? 0 : 1);
return 0;
