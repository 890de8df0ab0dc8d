using Microsoft.Extensions.DependencyInjection.Extensions;
using Streaming.Worker.Consuming;

namespace Streaming.Worker.Pipeline;

public static class PipelineServiceCollectionExtensions
{
    /// <summary>The lane's record handler: the steps registered here, in this order, and nothing else.</summary>
    public static IServiceCollection AddRecordPipeline(this IServiceCollection services, Action<PipelineBuilder> steps)
    {
        var builder = new PipelineBuilder(services);
        steps(builder);
        services.AddSingleton(sp => new RecordPipeline(
            builder.Steps.Select(t => (IRecordStep)sp.GetRequiredService(t)),
            sp.GetRequiredService<Streaming.Kafka.Topology>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>()));

        // A test may wrap the pipeline in a handler of its own, registered first.
        services.TryAddSingleton<IRecordHandler>(sp => sp.GetRequiredService<RecordPipeline>());
        return services;
    }

    public sealed class PipelineBuilder(IServiceCollection services)
    {
        internal List<Type> Steps { get; } = [];

        public PipelineBuilder Use<TStep>()
            where TStep : class, IRecordStep
        {
            services.AddSingleton<TStep>();
            Steps.Add(typeof(TStep));
            return this;
        }
    }
}
