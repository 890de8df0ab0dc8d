using Streaming.Hosting;
using Streaming.Worker;

return await ServiceRunner.RunAsync("worker", () => WorkerApp.Build(args).RunAsync());
