using System.Text.RegularExpressions;
using Streaming.Contracts;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Streaming.Destinations;

/// <summary>One reason a destinations file is refused. <see cref="Kind"/> is a short, fixed word (a metric label).</summary>
public sealed record DestinationProblem(string Kind, string Message)
{
    public const string Unreadable = "unreadable";
    public const string Syntax = "syntax";
    public const string Name = "name";
    public const string Duplicate = "duplicate";
    public const string Url = "url";
    public const string Secret = "secret";
    public const string Limit = "limit";

    public static readonly IReadOnlyList<string> Kinds = [Unreadable, Syntax, Name, Duplicate, Url, Secret, Limit];

    public override string ToString() => Message;
}

/// <summary>A parsed file: a table, or the problems that refuse it whole.</summary>
public sealed record DestinationFileResult(DestinationTable? Table, IReadOnlyList<DestinationProblem> Problems)
{
    public bool IsValid => Table is not null;

    /// <summary>One line for start-up errors and logs: the first problem, and how many more there are.</summary>
    public string Summary => Problems.Count switch
    {
        0 => "valid",
        1 => Problems[0].Message,
        _ => $"{Problems[0].Message} (and {Problems.Count - 1} more)",
    };
}

/// <summary>
/// Reads and validates the DESTINATIONS_FILE YAML (format in docs/design.md, "Destinations"). Every
/// problem is collected; any problem refuses the whole file. No message ever contains a secret.
/// </summary>
public static partial class DestinationFile
{
    public const int MaxConcurrencyLimit = 10_000;

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>Whether <paramref name="name"/> can name a destination: [a-z0-9-]{1,40}.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>Reads the file at <paramref name="path"/>; secret files are read too when <paramref name="readSecrets"/>.</summary>
    public static DestinationFileResult Load(string path, bool readSecrets = true)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Refused(new DestinationProblem(DestinationProblem.Unreadable, $"cannot read {path}: {e.Message}"));
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return Parse(text, readSecrets ? file => File.ReadAllText(Path.Combine(directory, file)) : null, directory);
    }

    /// <param name="readSecretFile">Reads a signingSecretFile; null to skip reading secrets (listings).</param>
    /// <param name="directory">Where relative signingSecretFile paths start.</param>
    public static DestinationFileResult Parse(string yaml, Func<string, string>? readSecretFile, string directory = ".")
    {
        FileModel? model;
        try
        {
            model = Yaml.Deserialize<FileModel?>(yaml);
        }
        catch (YamlException e)
        {
            return Refused(new DestinationProblem(DestinationProblem.Syntax, $"line {e.Start.Line}: {Describe(e)}"));
        }

        if (model?.Destinations is null)
        {
            return Refused(new DestinationProblem(DestinationProblem.Syntax, "no 'destinations:' list"));
        }

        var problems = new List<DestinationProblem>();
        var destinations = new List<Destination>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var phoneOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        var wabaOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < model.Destinations.Count; i++)
        {
            var entry = model.Destinations[i];
            if (entry is null)
            {
                problems.Add(new(DestinationProblem.Syntax, $"destination #{i + 1} is empty"));
                continue;
            }

            var label = entry.Name is { Length: > 0 } n && NamePattern().IsMatch(n) ? $"destination '{n}'" : $"destination #{i + 1}";
            if (entry.Name is null || !NamePattern().IsMatch(entry.Name))
            {
                problems.Add(new(DestinationProblem.Name, $"{label}: name must match [a-z0-9-]{{1,40}}"));
            }
            else if (entry.Name == Destination.DefaultName)
            {
                problems.Add(new(DestinationProblem.Name, $"{label}: the name '{Destination.DefaultName}' is reserved for DELIVERY_URL"));
            }
            else if (!names.Add(entry.Name))
            {
                problems.Add(new(DestinationProblem.Duplicate, $"{label}: the name is used twice"));
            }

            var phones = Ids(entry.PhoneNumberIds, "phoneNumberIds", label, entry.Name ?? label, phoneOwners, problems);
            var wabas = Ids(entry.WabaIds, "wabaIds", label, entry.Name ?? label, wabaOwners, problems);
            var messagesUrl = Url(entry.MessagesUrl, "messagesUrl", label, problems);
            var statusesUrl = Url(entry.StatusesUrl, "statusesUrl", label, problems);
            if (entry.MessagesUrl is null && entry.StatusesUrl is null)
            {
                problems.Add(new(DestinationProblem.Url, $"{label}: give messagesUrl, statusesUrl or both"));
            }

            var (source, signer) = Secret(entry, label, readSecretFile, directory, problems);
            if (entry.MaxConcurrency is < 1 or > MaxConcurrencyLimit)
            {
                problems.Add(new(DestinationProblem.Limit, $"{label}: maxConcurrency must be between 1 and {MaxConcurrencyLimit}"));
            }

            if (entry.MaxRatePerSecond is { } rate && (double.IsNaN(rate) || rate <= 0 || rate > 1_000_000))
            {
                problems.Add(new(DestinationProblem.Limit, $"{label}: maxRatePerSecond must be a positive number (at most 1000000)"));
            }

            destinations.Add(new Destination
            {
                Name = entry.Name ?? "",
                PhoneNumberIds = phones,
                WabaIds = wabas,
                MessagesUrl = messagesUrl,
                StatusesUrl = statusesUrl,
                SecretSource = source,
                SecretFile = entry.SigningSecretFile,
                Signer = signer,
                MaxConcurrency = entry.MaxConcurrency,
                MaxRatePerSecond = entry.MaxRatePerSecond,
            });
        }

        return problems.Count > 0 ? new DestinationFileResult(null, problems) : new DestinationFileResult(new DestinationTable(destinations), []);
    }

    private static DestinationFileResult Refused(DestinationProblem problem) => new(null, [problem]);

    private static string Describe(YamlException e)
    {
        // YamlDotNet's own messages can quote values; only its structural ones are passed on.
        if (UnknownProperty().Match(e.Message) is { Success: true } unknown)
        {
            return $"unknown field '{unknown.Groups[1].Value}'";
        }

        return e.InnerException is null
            ? e.Message.Split(Environment.NewLine)[0]
            : "a value has the wrong type (lists for phoneNumberIds and wabaIds, numbers for maxConcurrency and maxRatePerSecond)";
    }

    private static List<string> Ids(List<string?>? ids, string field, string label, string owner, Dictionary<string, string> owners, List<DestinationProblem> problems)
    {
        var result = new List<string>();
        foreach (var raw in ids ?? [])
        {
            var id = raw?.Trim();
            if (string.IsNullOrEmpty(id))
            {
                problems.Add(new(DestinationProblem.Syntax, $"{label}: {field} has an empty entry"));
                continue;
            }

            if (owners.TryGetValue(id, out var first))
            {
                problems.Add(new(DestinationProblem.Duplicate, first == owner
                    ? $"{label}: {field} lists {id} twice"
                    : $"{label}: {field} {id} is already routed to '{first}'"));
                continue;
            }

            owners[id] = owner;
            result.Add(id);
        }

        return result;
    }

    private static Uri? Url(string? text, string field, string label, List<DestinationProblem> problems)
    {
        if (text is null)
        {
            return null;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && url.UserInfo.Length == 0)
        {
            return url;
        }

        // The URL is not echoed: a mistyped one may carry credentials.
        problems.Add(new(DestinationProblem.Url, $"{label}: {field} must be an absolute http(s) URL without user info"));
        return null;
    }

    private static (SecretSource, StandardWebhooks?) Secret(DestinationModel entry, string label, Func<string, string>? readSecretFile, string directory, List<DestinationProblem> problems)
    {
        if ((entry.SigningSecret is null) == (entry.SigningSecretFile is null))
        {
            problems.Add(new(DestinationProblem.Secret, $"{label}: give exactly one of signingSecret and signingSecretFile"));
            return (SecretSource.Inline, null);
        }

        var source = entry.SigningSecret is null ? SecretSource.File : SecretSource.Inline;
        string secret;
        if (entry.SigningSecret is { } inline)
        {
            secret = inline;
        }
        else if (readSecretFile is null)
        {
            return (source, null);
        }
        else
        {
            try
            {
                secret = readSecretFile(entry.SigningSecretFile!).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                problems.Add(new(DestinationProblem.Secret, $"{label}: cannot read signingSecretFile {Path.Combine(directory, entry.SigningSecretFile!)}: {e.GetType().Name}"));
                return (source, null);
            }
        }

        if (!StandardWebhooks.TryParseSecret(secret, out _, out var error))
        {
            problems.Add(new(DestinationProblem.Secret, $"{label}: {(source == SecretSource.File ? "signingSecretFile" : "signingSecret")}: {error}"));
            return (source, null);
        }

        return (source, readSecretFile is null && source == SecretSource.Inline ? null : new StandardWebhooks(secret));
    }

    [GeneratedRegex("^[a-z0-9-]{1,40}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("Property '([^']{1,60})' not found")]
    private static partial Regex UnknownProperty();

    private sealed class FileModel
    {
        public List<DestinationModel?>? Destinations { get; set; }
    }

    private sealed class DestinationModel
    {
        public string? Name { get; set; }
        public List<string?>? PhoneNumberIds { get; set; }
        public List<string?>? WabaIds { get; set; }
        public string? MessagesUrl { get; set; }
        public string? StatusesUrl { get; set; }
        public string? SigningSecret { get; set; }
        public string? SigningSecretFile { get; set; }
        public int? MaxConcurrency { get; set; }
        public double? MaxRatePerSecond { get; set; }
    }
}
