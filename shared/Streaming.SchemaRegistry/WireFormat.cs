using System.Buffers.Binary;

namespace Streaming.SchemaRegistry;

/// <summary>
/// A record value as it sits on a topic: Confluent's framing (magic byte 0, then the schema id as 4
/// bytes big-endian, then the JSON) or plain JSON. The two never look alike: JSON text cannot start
/// with a 0 byte, so a reader tells them apart by the first byte alone and a topic may hold both.
/// </summary>
public readonly record struct WireValue(int? SchemaId, ReadOnlyMemory<byte> Json)
{
    public bool IsFramed => SchemaId is not null;

    /// <summary>The JSON as its own array (the value itself when it is plain, so no copy then).</summary>
    public byte[] JsonBytes(byte[] value) => IsFramed ? Json.ToArray() : value;
}

public static class WireFormat
{
    public const byte MagicByte = 0;
    public const int FrameLength = 5;

    /// <summary>False when the value starts with the magic byte but is too short to hold a schema id.</summary>
    public static bool TryRead(byte[]? value, out WireValue wire)
    {
        wire = default;
        if (value is null)
        {
            return false;
        }

        if (value.Length == 0 || value[0] != MagicByte)
        {
            wire = new WireValue(null, value);
            return true;
        }

        if (value.Length < FrameLength)
        {
            return false;
        }

        wire = new WireValue(BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4)), value.AsMemory(FrameLength));
        return true;
    }

    /// <summary>The documented framing, for tests and tools that frame without the serializer.</summary>
    public static byte[] Frame(int schemaId, ReadOnlySpan<byte> json)
    {
        var framed = new byte[FrameLength + json.Length];
        framed[0] = MagicByte;
        BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1, 4), schemaId);
        json.CopyTo(framed.AsSpan(FrameLength));
        return framed;
    }
}
