using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Kafka;

namespace Streaming.SchemaRegistry;

public static class SchemaRegistryServiceCollectionExtensions
{
    /// <summary>The registry connection (none when SCHEMA_REGISTRY_URL is unset) and the record value reader.</summary>
    public static IServiceCollection AddSchemaRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SchemaRegistryOptions>(configuration, o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SchemaRegistryConnection>();
        services.TryAddSingleton<RecordValueReader>();
        return services;
    }

    /// <summary>
    /// A writer of <typeparamref name="T"/> values with <paramref name="schema"/>, whose subjects (one per
    /// topic) are registered at start-up; the service is not ready until they are.
    /// </summary>
    public static IServiceCollection AddRecordValueWriter<T>(
        this IServiceCollection services, Schema schema, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> plainJson,
        Func<IServiceProvider, IEnumerable<string>> topics, string readinessTag)
        where T : class
    {
        services.AddSingleton(sp => new RecordValueWriter<T>(sp.GetRequiredService<SchemaRegistryConnection>(), schema, plainJson,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<RecordValueWriter<T>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new SchemaRegistration(sp.GetRequiredService<SchemaRegistryConnection>(),
            topics(sp).Select(t => (t, schema)).ToArray(), sp.GetRequiredService<ILogger<SchemaRegistration>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SchemaRegistration>());
        services.AddHealthChecks().AddCheck<SchemaRegistration>(SchemaRegistration.HealthCheckName, tags: [readinessTag]);
        return services;
    }
}
