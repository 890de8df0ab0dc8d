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
        services.AddSingleton(new PipelineSteps(builder.Steps));
        services.AddSingleton(sp => new RecordPipeline(
            sp.GetRequiredService<PipelineSteps>().Resolve(sp),
            sp.GetRequiredService<Streaming.Kafka.Topology>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WorkerOptions>>()));

        // A test may wrap the pipeline in a handler of its own, registered first.
        services.TryAddSingleton<IRecordHandler>(sp => sp.GetRequiredService<RecordPipeline>());
        return services;
    }

    /// <summary>The registered steps, in order (a test may build a pipeline with a step of its own inserted).</summary>
    public sealed class PipelineSteps(IReadOnlyList<Type> types)
    {
        public IReadOnlyList<Type> Types { get; } = types;

        public IEnumerable<IRecordStep> Resolve(IServiceProvider services) => Types.Select(t => (IRecordStep)services.GetRequiredService(t));
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
