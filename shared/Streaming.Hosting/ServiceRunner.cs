using Microsoft.Extensions.Options;

namespace Streaming.Hosting;

/// <summary>Runs a service and turns configuration mistakes into one clear line and exit code 2, not a stack trace.</summary>
public static class ServiceRunner
{
    public const int ConfigurationError = 2;

    public static async Task<int> RunAsync(string serviceName, Func<Task> run)
    {
        try
        {
            await run();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync($"{serviceName}: configuration error: {failure}");
            }

            return ConfigurationError;
        }
        catch (Exception e) when (e is IOException { InnerException: System.Net.Sockets.SocketException } or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"{serviceName}: cannot listen: {e.Message}");
            return ConfigurationError;
        }
    }
}
