using Streaming.Contracts;
using Streaming.Destinations;

namespace Streaming.Worker.Tests.Destinations;

/// <summary>The DESTINATIONS_FILE format: what it routes, and every way a file is refused whole.</summary>
public sealed class DestinationTableTests
{
    // Looks like a real key; must never show up in a problem message.
    private const string Secret = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFrLTEyMzQ=";
    private const string OtherSecret = "whsec_b3RoZXItc2VjcmV0LW5ldmVyLWxlYWstNTY3OA==";

    private const string Valid = $$"""
        destinations:
          - name: acme
            phoneNumberIds: ["106540352242922", 106540352242923]
            wabaIds: []
            messagesUrl: https://acme.example/wa/messages
            statusesUrl: https://acme.example/wa/statuses
            signingSecret: {{Secret}}
            maxConcurrency: 4
            maxRatePerSecond: 2.5
          - name: brand-2
            wabaIds: ["102290129340398"]
            messagesUrl: http://brand2.internal/messages
            signingSecretFile: brand2.secret
        """;

    private static DestinationFileResult Parse(string yaml, Func<string, string>? readSecret = null) =>
        DestinationFile.Parse(yaml, readSecret ?? (file => file == "brand2.secret" ? OtherSecret + "\n" : throw new FileNotFoundException(file)));

    [Fact]
    public void A_valid_file_routes_by_phone_number_id_then_waba_id_then_default()
    {
        var result = Parse(Valid);
        Assert.True(result.IsValid, result.Summary);
        var table = result.Table!;
        Assert.Equal(["acme", "brand-2"], table.Destinations.Select(d => d.Name));
        var acme = table.Destinations[0];
        Assert.Equal(["106540352242922", "106540352242923"], acme.PhoneNumberIds);
        Assert.Equal(4, acme.MaxConcurrency);
        Assert.Equal(2.5, acme.MaxRatePerSecond);
        Assert.Equal(SecretSource.File, table.Destinations[1].SecretSource);
        Assert.NotNull(table.Destinations[1].Signer);

        Assert.Equal("acme", table.Route(Lane.Messages, "106540352242922", "102290129340398")?.Name);
        Assert.Equal("brand-2", table.Route(Lane.Messages, "999", "102290129340398")?.Name);
        Assert.Equal("brand-2", table.Route(Lane.Messages, null, "102290129340398")?.Name);
        Assert.Null(table.Route(Lane.Messages, "999", "888"));

        var withDefault = table.WithDefault(new Destination { Name = Destination.DefaultName, MessagesUrl = new Uri("http://default/"), StatusesUrl = new Uri("http://default/"), SecretSource = SecretSource.Environment });
        Assert.Equal("default", withDefault.Route(Lane.Messages, "999", "888")?.Name);
    }

    [Fact]
    public void A_destination_without_a_lanes_url_takes_no_part_in_that_lanes_routing()
    {
        var table = Parse(Valid).Table!;
        // brand-2 has no statusesUrl: its statuses are unmatched (default, or unroutable without one).
        Assert.Null(table.Route(Lane.Statuses, null, "102290129340398"));
        Assert.Equal("acme", table.Route(Lane.Statuses, "106540352242922", null)?.Name);
        Assert.Equal(["acme"], table.For(Lane.Statuses).Select(d => d.Name));
    }

    [Fact]
    public void Read_without_secrets_a_listing_needs_no_secret_file()
    {
        var result = DestinationFile.Parse(Valid, readSecretFile: null);
        Assert.True(result.IsValid, result.Summary);
        Assert.All(result.Table!.Destinations, d => Assert.Null(d.Signer));
        Assert.Equal("brand2.secret", result.Table.Destinations[1].SecretFile);
    }

    [Fact]
    public void An_empty_list_is_a_valid_table_that_sends_everything_to_the_default()
    {
        var result = Parse("destinations: []");
        Assert.True(result.IsValid, result.Summary);
        Assert.Empty(result.Table!.Destinations);
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        { Valid.Replace("name: acme", "name: Acme"), DestinationProblem.Name, "name must match [a-z0-9-]{1,40}" },
        { Valid.Replace("name: acme", "name: " + new string('a', 41)), DestinationProblem.Name, "name must match" },
        { Valid.Replace("name: acme", "name: default"), DestinationProblem.Name, "reserved" },
        { Valid.Replace("name: brand-2", "name: acme"), DestinationProblem.Duplicate, "the name is used twice" },
        { Valid.Replace("wabaIds: [\"102290129340398\"]", "phoneNumberIds: [\"106540352242922\"]"), DestinationProblem.Duplicate, "106540352242922 is already routed to 'acme'" },
        { Valid.Replace("106540352242923", "106540352242922"), DestinationProblem.Duplicate, "lists 106540352242922 twice" },
        { Valid.Replace("https://acme.example/wa/messages", "ftp://acme.example/"), DestinationProblem.Url, "messagesUrl must be an absolute http(s) URL" },
        { Valid.Replace("https://acme.example/wa/statuses", "https://user:pw@acme.example/"), DestinationProblem.Url, "statusesUrl must be an absolute http(s) URL" },
        { Valid.Replace("    messagesUrl: http://brand2.internal/messages\n", ""), DestinationProblem.Url, "give messagesUrl, statusesUrl or both" },
        { Valid.Replace("signingSecretFile: brand2.secret", $"signingSecretFile: brand2.secret\n    signingSecret: {OtherSecret}"), DestinationProblem.Secret, "exactly one of signingSecret and signingSecretFile" },
        { Valid.Replace($"    signingSecret: {Secret}\n", ""), DestinationProblem.Secret, "exactly one of" },
        { Valid.Replace(Secret, Secret[..^4] + "!!!!"), DestinationProblem.Secret, "not base64" },
        { Valid.Replace(Secret, "c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr"), DestinationProblem.Secret, "whsec_" },
        { Valid.Replace("brand2.secret", "missing.secret"), DestinationProblem.Secret, "cannot read signingSecretFile" },
        { Valid.Replace("maxConcurrency: 4", "maxConcurrency: 0"), DestinationProblem.Limit, "maxConcurrency must be between 1 and 10000" },
        { Valid.Replace("maxRatePerSecond: 2.5", "maxRatePerSecond: -1"), DestinationProblem.Limit, "maxRatePerSecond must be a positive number" },
        { Valid.Replace("maxConcurrency: 4", "maxConcurrency: lots"), DestinationProblem.Syntax, "a value has the wrong type" },
        { Valid.Replace("wabaIds: []", "wabaID: []"), DestinationProblem.Syntax, "unknown field 'wabaID'" },
        { Valid.Replace("  - name: brand-2", "  - name: [brand-2"), DestinationProblem.Syntax, "line " },
        { "routes: []", DestinationProblem.Syntax, "unknown field 'routes'" },
        { "", DestinationProblem.Syntax, "no 'destinations:' list" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_is_refused_whole_naming_the_problem_and_no_secret(string yaml, string kind, string message)
    {
        var result = Parse(yaml);
        Assert.False(result.IsValid);
        Assert.Null(result.Table);
        var problem = Assert.Single(result.Problems, p => p.Message.Contains(message, StringComparison.Ordinal));
        Assert.Equal(kind, problem.Kind);
        foreach (var p in result.Problems)
        {
            Assert.DoesNotContain("c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr", p.Message);
            Assert.DoesNotContain("b3RoZXItc2VjcmV0LW5ldmVyLWxlYWst", p.Message);
            Assert.DoesNotContain("pw@", p.Message);
        }

        Assert.DoesNotContain("\n", result.Summary);
    }

    [Fact]
    public void Several_problems_are_summed_up_in_one_line()
    {
        var result = Parse(Valid.Replace("name: acme", "name: ACME").Replace("maxConcurrency: 4", "maxConcurrency: 0"));
        Assert.Equal(2, result.Problems.Count);
        Assert.EndsWith("(and 1 more)", result.Summary);
    }
}
