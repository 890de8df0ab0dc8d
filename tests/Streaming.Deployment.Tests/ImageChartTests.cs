using System.Text;
using System.Xml.Linq;
using static Streaming.Deployment.Tests.Workloads;

namespace Streaming.Deployment.Tests;

/// <summary>
/// The Dockerfiles and what the chart and the kustomize overlays run from them, read together: a manifest that
/// renders and validates can still start a container the image cannot run.
/// </summary>
public sealed class ImageChartTests
{
    /// <summary>APP_UID of the mcr.microsoft.com/dotnet images, which `USER $APP_UID` selects.</summary>
    private const int AppUid = 1654;

    public static TheoryData<string, string, string, string?> Workloads => new()
    {
        // service, workload (Kind/name suffix), image name, port variable
        { "Streaming.Ingress", "Deployment/ingress", "whatsapp-streaming-ingress", "INGRESS_PORT" },
        { "Streaming.Worker", "Deployment/messages-worker", "whatsapp-streaming-worker", "WORKER_PORT" },
        { "Streaming.Worker", "Deployment/statuses-worker", "whatsapp-streaming-worker", "WORKER_PORT" },
        { "Streaming.Ctl", "Job/topics", "whatsapp-streaming-ctl", null },
    };

    private static IReadOnlyList<(string Source, IReadOnlyList<K8sObject> Objects)> Renders =>
    [
        ("helm default", Helm.Render("-f", Helm.DefaultValues)),
        ("helm full", Helm.Render("-f", Helm.FullValues)),
        ("kustomize production", Yaml.Objects(Kubectl.Kustomize("k8s/overlays/production").Stdout)),
        ("kustomize dev", Yaml.Objects(Kubectl.Kustomize("k8s/overlays/dev").Stdout)),
    ];

    [Theory]
    [MemberData(nameof(Workloads))]
    public void The_chart_and_the_overlays_run_what_the_image_runs(string service, string workload, string image, string? portVariable)
    {
        var dockerfile = Dockerfile.Of(service);
        var kind = workload.Split('/')[0];
        var assembly = AssemblyName(service) + ".dll";
        Assert.Equal(["dotnet", assembly], dockerfile.Entrypoint);

        foreach (var (source, objects) in Renders)
        {
            var o = objects.Single(x => x.Kind == kind && x.Name == $"whatsapp-streaming-{workload.Split('/')[1]}");
            var container = Containers(o).Single();
            var what = $"{source} {o}";
            Assert.Contains($"/{image}", "/" + container["image"].Str!.Split(':')[0].Split('/').Last());

            // The image's ENTRYPOINT runs: no command override; arguments are the entry assembly's.
            Assert.False(container["command"].Exists, $"{what} overrides the image's ENTRYPOINT");
            if (service == "Streaming.Ctl")
            {
                var args = container["args"].Items.Select(a => a.Str!).ToArray();
                Assert.Equal(["topics", "create"], args);
                AssertStreamctlHasCommand(args);
            }
            else
            {
                Assert.False(container["args"].Exists, $"{what} passes arguments the service does not read");
            }

            // Non-root as the image's user, with a read-only root and a writable /tmp.
            Assert.Equal("USER $APP_UID", $"USER {dockerfile.User}");
            Assert.Equal(AppUid, PodSpec(o).At("securityContext.runAsUser").Int);
            Assert.True(PodSpec(o).At("securityContext.runAsNonRoot").Bool, what);
            Assert.True(container.At("securityContext.readOnlyRootFilesystem").Bool, what);
            Assert.Contains(container["volumeMounts"].Items, m => m["mountPath"].Str == "/tmp");
            Assert.DoesNotContain(container["volumeMounts"].Items, m => m["mountPath"].Str is "/app" or "/");

            var env = Env(container);
            if (portVariable is null)
            {
                Assert.Empty(dockerfile.Exposed);
                Assert.False(container["ports"].Exists, $"{what}: streamctl serves nothing");
                continue;
            }

            // The port the service binds (its variable), the image's EXPOSE and default, the containerPort and the probes.
            var port = env.TryGetValue(portVariable, out var v) ? v["value"].Str! : dockerfile.Env[portVariable];
            Assert.Equal(dockerfile.Env[portVariable], dockerfile.Exposed.Single());
            Assert.Equal(port, container["ports"].Items.Single(p => p["name"].Str == "http")["containerPort"].Str);
            Assert.Equal("", dockerfile.Env["ASPNETCORE_HTTP_PORTS"]);
            Assert.Contains("GET /healthz ", dockerfile.Healthcheck);
            Assert.Contains($"${{{portVariable}:-{dockerfile.Env[portVariable]}}}", dockerfile.Healthcheck);
            Assert.Equal("/healthz", container.At("livenessProbe.httpGet.path").Str);
            Assert.Equal("/readyz", container.At("readinessProbe.httpGet.path").Str);
            Assert.Equal("http", container.At("livenessProbe.httpGet.port").Str);

            // A preStop hook runs a binary of the image: the Debian-based images have coreutils and bash (a chiseled
            // or distroless image would not).
            if (container.At("lifecycle.preStop.exec.command").Exists)
            {
                Assert.Equal("sleep", container.At("lifecycle.preStop.exec.command")[0].Str);
                Assert.DoesNotMatch("chiseled|distroless|alpine", dockerfile.RuntimeImage);
            }
        }
    }

    [Theory]
    [InlineData("Streaming.Ingress")]
    [InlineData("Streaming.Worker")]
    [InlineData("Streaming.Ctl")]
    public void The_images_load_librdkafkas_default_build_on_their_debian_base(string service)
    {
        // What Confluent.Kafka ships: the default Linux build needs the RPM soname of Cyrus SASL.
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        var librdkafka = File.ReadAllBytes(Path.Combine(native, "librdkafka.so"));
        Assert.True(Contains(librdkafka, "libsasl2.so.3"), "librdkafka.so no longer links libsasl2.so.3: revisit the Dockerfiles' patchelf step");
        Assert.True(File.Exists(Path.Combine(native, "centos8-librdkafka.so")), "the fallback Confluent.Kafka loads when the default build does not");

        // The Dockerfile points it at Debian's libsasl2.so.2 (libsasl2-2) and checks it did.
        var dockerfile = Dockerfile.Of(service);
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/(aspnet|runtime):10\.0$", dockerfile.RuntimeImage);
        Assert.Contains("patchelf --replace-needed libsasl2.so.3 libsasl2.so.2", dockerfile.RunCommands(runtime: false));
        Assert.Contains("grep -l libsasl2.so.3", dockerfile.RunCommands(runtime: false));
        var runtime = dockerfile.RunCommands(runtime: true);
        Assert.Contains("libsasl2-2", runtime);
        Assert.Contains("ca-certificates", runtime);
    }

    [Theory]
    [InlineData("Streaming.Ingress")]
    [InlineData("Streaming.Worker")]
    [InlineData("Streaming.Ctl")]
    public void Everything_a_service_builds_from_is_copied_into_the_build_and_not_docker_ignored(string service)
    {
        var dockerfile = Dockerfile.Of(service);
        var copied = dockerfile.CopiedFromContext.Select(c => c.TrimEnd('/')).ToArray();
        var ignored = Repo.Read(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.Contains("Directory.Build.props", copied);
        Assert.Contains("Directory.Packages.props", copied);

        foreach (var input in BuildInputs($"services/{service}/{service}.csproj"))
        {
            Assert.True(copied.Any(c => input == c || input.StartsWith(c + "/", StringComparison.Ordinal)),
                $"{service} builds from {input}, which its Dockerfile does not COPY");
            Assert.False(ignored.Any(i => !i.StartsWith("**", StringComparison.Ordinal) && !i.StartsWith('*') && (input == i.TrimEnd('/') || input.StartsWith(i.TrimEnd('/') + "/", StringComparison.Ordinal))),
                $"{service} builds from {input}, which .dockerignore leaves out of the context");
        }
    }

    [Theory]
    [InlineData("Streaming.Ingress")]
    [InlineData("Streaming.Worker")]
    [InlineData("Streaming.Ctl")]
    public void The_runtime_image_has_the_shared_frameworks_the_service_needs(string service)
    {
        // A project that is (or references) ASP.NET Core needs the aspnet image; the plain runtime image would
        // refuse to start it ("framework Microsoft.AspNetCore.App was not found").
        var needsAspNet = BuildInputs($"services/{service}/{service}.csproj")
            .Where(p => p.EndsWith("proj", StringComparison.Ordinal))
            .Select(p => XDocument.Load(Repo.PathOf(p)))
            .Any(d => d.Root!.Attribute("Sdk")?.Value == "Microsoft.NET.Sdk.Web"
                || d.Descendants("FrameworkReference").Any(f => f.Attribute("Include")?.Value == "Microsoft.AspNetCore.App"));
        var image = Dockerfile.Of(service).RuntimeImage;
        Assert.Equal(needsAspNet ? "mcr.microsoft.com/dotnet/aspnet:10.0" : "mcr.microsoft.com/dotnet/runtime:10.0", image);
    }

    /// <summary>A project and every file it names outside itself (project references, linked items), transitively, repo-relative.</summary>
    private static IEnumerable<string> BuildInputs(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            yield return current;
            var directory = Path.GetDirectoryName(Repo.PathOf(current))!;
            foreach (var include in XDocument.Load(Repo.PathOf(current)).Descendants().Select(e => e.Attribute("Include")?.Value).OfType<string>())
            {
                if (!include.Contains('/') && !include.Contains('\\'))
                {
                    continue; // a package or a file of the project itself
                }

                var full = Path.GetFullPath(Path.Combine(directory, include.Replace('\\', '/')));
                var relative = Path.GetRelativePath(Repo.Root, full).Replace('\\', '/');
                if (relative.EndsWith("proj", StringComparison.Ordinal))
                {
                    pending.Push(relative);
                }
                else if (!full.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    yield return relative;
                }
            }
        }
    }

    private static string AssemblyName(string service) =>
        XDocument.Load(Repo.PathOf($"services/{service}/{service}.csproj")).Descendants("AssemblyName").FirstOrDefault()?.Value ?? service;

    /// <summary>`streamctl <args>` names a command of its command tree (services/Streaming.Ctl).</summary>
    private static void AssertStreamctlHasCommand(string[] args)
    {
        var source = string.Join('\n', Directory.EnumerateFiles(Repo.PathOf("services/Streaming.Ctl"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        foreach (var word in args)
        {
            Assert.Contains($"new Command(\"{word}\"", source);
        }
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.ASCII.GetBytes(needle)) >= 0;
}
