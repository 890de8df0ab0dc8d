using Streaming.DevBroker;

return args.FirstOrDefault() == "sink"
    ? await LocalSink.RunAsync(args)
    : await DevBroker.RunAsync(new ConfigurationBuilder().AddEnvironmentVariables().Build());
