using System.Net;
using Streaming.Testing;

namespace Streaming.FaultInjection.Tests;

/// <summary>Meta's side of a scenario: posts signed webhooks to the ingress and books each answer in the ledger.</summary>
public static class EndToEnd
{
    /// <param name="beforeEach">Runs before webhook i is posted: where a scenario injects its faults.</param>
    public static async Task PostAsync(IngressHost ingress, Ledger ledger, int count, Func<int, Webhooks.Built> webhook, Func<int, Task>? beforeEach = null, int concurrency = 4)
    {
        var next = -1;
        var gate = new SemaphoreSlim(1, 1);
        async Task PostLoop()
        {
            while (true)
            {
                int i;
                await gate.WaitAsync();
                try
                {
                    i = ++next;
                    if (i >= count)
                    {
                        return;
                    }

                    if (beforeEach is not null)
                    {
                        await beforeEach(i);
                    }
                }
                finally
                {
                    gate.Release();
                }

                var built = webhook(i);
                var response = await ingress.PostSignedAsync(built.Body);
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
                {
                    throw new InvalidOperationException($"webhook {i} answered {(int)response.StatusCode}: only 200 or 503 are expected");
                }

                var stored = response.StatusCode == HttpStatusCode.OK;
                ledger.Answered(stored, built.EventIds, stored ? null : await response.Content.ReadAsStringAsync());
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(PostLoop)));
    }
}
