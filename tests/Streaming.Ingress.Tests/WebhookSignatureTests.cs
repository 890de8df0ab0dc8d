using System.Text;
using Streaming.Ingress.Security;

namespace Streaming.Ingress.Tests;

public class WebhookSignatureTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("app-secret");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"object":"whatsapp_business_account","entry":[]}""");

    [Fact]
    public void Accepts_the_hmac_of_the_raw_body()
    {
        var header = WebhookSignature.Compute(Body, "app-secret");
        Assert.StartsWith("sha256=", header);
        Assert.True(WebhookSignature.IsValid(Body, header, Secret));
    }

    [Fact]
    public void Accepts_upper_case_hex() =>
        Assert.True(WebhookSignature.IsValid(Body, "sha256=" + WebhookSignature.Compute(Body, "app-secret")[7..].ToUpperInvariant(), Secret));

    [Fact]
    public void Refuses_a_missing_header() => Assert.False(WebhookSignature.IsValid(Body, null, Secret));

    [Fact]
    public void Refuses_another_secret() =>
        Assert.False(WebhookSignature.IsValid(Body, WebhookSignature.Compute(Body, "other-secret"), Secret));

    [Fact]
    public void Refuses_the_signature_of_another_body()
    {
        var other = Encoding.UTF8.GetBytes("""{"object":"whatsapp_business_account","entry":[ ]}""");
        Assert.False(WebhookSignature.IsValid(Body, WebhookSignature.Compute(other, "app-secret"), Secret));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256=")]
    [InlineData("sha1=0123456789abcdef0123456789abcdef01234567")]
    [InlineData("sha256=zz")]
    [InlineData("sha256=0123")]
    [InlineData("sha256=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    public void Refuses_malformed_headers(string header) => Assert.False(WebhookSignature.IsValid(Body, header, Secret));

    [Fact]
    public void Verify_token_comparison_is_exact()
    {
        Assert.True(WebhookSignature.SecretEquals("token", "token"));
        Assert.False(WebhookSignature.SecretEquals("token ", "token"));
        Assert.False(WebhookSignature.SecretEquals(null, "token"));
    }
}
