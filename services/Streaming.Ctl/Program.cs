using Microsoft.Extensions.Configuration;
using Streaming.Ctl;

var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
return await Cli.RunAsync(args, configuration, Console.Out, Console.Error);
