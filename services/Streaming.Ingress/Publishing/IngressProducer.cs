using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Streaming.Kafka.Clients;

namespace Streaming.Ingress.Publishing;

/// <summary>The one producer of the ingress: idempotent, acks=all, message timeout = the produce budget.</summary>
public static class IngressProducer
{
    public static IProducer<string, byte[]> Create(IServiceProvider services)
    {
        var ingress = services.GetRequiredService<IOptions<IngressOptions>>().Value;
        var config = new ProducerConfig
        {
            ClientId = "whatsapp-ingress",
            EnableIdempotence = true,
            Acks = Acks.All,
            // librdkafka gives up on a record after this; past the budget the request has had its 503.
            MessageTimeoutMs = ingress.ProduceBudgetMs,
            LingerMs = ingress.LingerMs,
            QueueBufferingMaxMessages = ingress.QueueMaxMessages,
            // Same key → same partition as the Java client, so other tools agree on placement.
            Partitioner = Partitioner.Murmur2Random,
            DeliveryReportFields = "status",
            CompressionType = CompressionType.Lz4,
        };
        return services.GetRequiredService<KafkaClientFactory>().Producer<string, byte[]>(config).Build();
    }
}
