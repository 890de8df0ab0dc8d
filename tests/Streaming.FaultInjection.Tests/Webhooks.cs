using System.Text.Json.Nodes;

namespace Streaming.FaultInjection.Tests;

/// <summary>Webhook bodies in Meta's format with event ids the ledger can follow.</summary>
public static class Webhooks
{
    public sealed record Built(byte[] Body, IReadOnlyList<string> EventIds);

    /// <summary>A batch: <paramref name="messages"/> customer messages and <paramref name="statuses"/> delivery statuses.</summary>
    public static Built Batch(string tag, int index, int messages, int statuses)
    {
        var ids = new List<string>();
        var messageItems = new JsonArray();
        var contacts = new JsonArray();
        for (var m = 0; m < messages; m++)
        {
            var from = $"49{(index + m) % 13:D3}";
            var id = $"wamid.{tag}.{index}.m{m}";
            messageItems.Add(new JsonObject { ["from"] = from, ["id"] = id, ["timestamp"] = "1750265000", ["type"] = "text", ["text"] = new JsonObject { ["body"] = $"hello {index}" } });
            contacts.Add(new JsonObject { ["wa_id"] = from, ["profile"] = new JsonObject { ["name"] = "Fault Tester" } });
            ids.Add(id);
        }

        var statusItems = new JsonArray();
        for (var s = 0; s < statuses; s++)
        {
            var id = $"wamid.{tag}.out.{index}.s{s}";
            statusItems.Add(new JsonObject { ["id"] = id, ["status"] = "delivered", ["timestamp"] = "1750265001", ["recipient_id"] = $"44{(index + s) % 11:D3}" });
            ids.Add($"{id}:delivered");
        }

        var value = new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new JsonObject { ["display_phone_number"] = "15550001111", ["phone_number_id"] = "106540352242922" },
        };
        if (messages > 0)
        {
            value["contacts"] = contacts;
            value["messages"] = messageItems;
        }

        if (statuses > 0)
        {
            value["statuses"] = statusItems;
        }

        var root = new JsonObject
        {
            ["object"] = "whatsapp_business_account",
            ["entry"] = new JsonArray(new JsonObject
            {
                ["id"] = "102290129340398",
                ["changes"] = new JsonArray(new JsonObject { ["field"] = "messages", ["value"] = value }),
            }),
        };
        return new Built(System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()), ids);
    }
}
