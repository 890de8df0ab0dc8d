using Streaming.Hosting;
using Streaming.Ingress;

return await ServiceRunner.RunAsync("ingress", () => IngressApp.Build(args).RunAsync());
