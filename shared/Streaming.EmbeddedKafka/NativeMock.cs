using System.Reflection;
using System.Runtime.InteropServices;

namespace Streaming.EmbeddedKafka;

/// <summary>
/// The rd_kafka_mock_* C API, bound to the very librdkafka that Confluent.Kafka loaded. On Debian the
/// default librdkafka.so needs libsasl2.so.3, so Confluent falls back to another variant; binding by
/// name would load a second, different copy (or fail), so the path is read from the process's mappings.
/// </summary>
internal static partial class NativeMock
{
    private const string Lib = "librdkafka";

    static NativeMock()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeMock).Assembly, Resolve);
    }

    /// <summary>Forces the static resolver registration before the first P/Invoke.</summary>
    public static void EnsureBound()
    {
        _ = Confluent.Kafka.Library.Version; // makes Confluent load its native library first
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib)
        {
            return IntPtr.Zero;
        }

        _ = Confluent.Kafka.Library.Version;
        var loaded = FindLoadedLibrdkafka();
        return loaded is not null ? NativeLibrary.Load(loaded) : IntPtr.Zero;
    }

    private static string? FindLoadedLibrdkafka()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps))
        {
            return null; // not Linux: fall back to the default probing of "librdkafka"
        }

        return File.ReadLines(maps)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 6)
            .Select(parts => parts[^1])
            .FirstOrDefault(p => Path.GetFileName(p).Contains("librdkafka", StringComparison.Ordinal));
    }

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void rd_kafka_mock_topic_set_error(IntPtr mcluster, string topic, int err);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);

    /// <summary>
    /// C: <c>rd_kafka_resp_err_t rd_kafka_mock_broker_push_request_error_rtts(rd_kafka_mock_cluster_t *mcluster,
    /// int32_t broker_id, int16_t ApiKey, size_t cnt, ...)</c> where ... is cnt pairs of
    /// (rd_kafka_resp_err_t err, int rtt_ms). .NET cannot call C varargs on Unix, so this binds the
    /// one-pair form with fixed parameters: on x86-64 System V and Linux AArch64 the integer varargs travel
    /// in the same registers as named ones (not so on Apple's arm64 ABI; see the guard in the caller).
    /// </summary>
    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_push_request_error_rtts(IntPtr mcluster, int brokerId, short apiKey, UIntPtr count, int error, int rttMs);

    /// <summary>C: <c>rd_kafka_mock_broker_error_stack_cnt(mcluster, broker_id, ApiKey, size_t *cntp)</c>.</summary>
    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_error_stack_cnt(IntPtr mcluster, int brokerId, short apiKey, out UIntPtr count);
}
