using System.Globalization;

namespace Streaming.Testing;

/// <summary>Reads one series' value out of Prometheus text exposition.</summary>
public static class MetricsText
{
    /// <param name="series">The series as printed, e.g. <c>whatsapp_ingress_shed_total</c> or <c>x_total{lane="messages"</c>.</param>
    public static double Value(string metrics, string series)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal) && (line.Length == series.Length || line[series.Length] is ' ' or '{' or ',' or '}'))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The sum of every series of one metric, whatever its labels (0 when it has none yet).</summary>
    public static double Sum(string metrics, string name) => metrics.Split('\n')
        .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{')
        .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}
