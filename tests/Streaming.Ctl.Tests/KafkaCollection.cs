using Streaming.Testing;

namespace Streaming.Ctl.Tests;

/// <summary>The classes that start brokers share the Testcontainers broker, disposed after the last of them (see <see cref="SharedKafkaContainer"/>).</summary>
[CollectionDefinition(SharedKafkaContainer.Collection)]
public sealed class KafkaCollection : ICollectionFixture<SharedKafkaContainer>;
