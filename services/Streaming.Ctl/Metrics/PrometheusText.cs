using System.Globalization;
using System.Text;

namespace Streaming.Ctl.Metrics;

/// <summary>One sample of a Prometheus text exposition: metric name, labels and value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.GetValueOrDefault(name);
}

/// <summary>
/// Reads the Prometheus text format (version 0.0.4), which is what the services' /metrics serves:
/// <c>name{label="value",...} value [timestamp]</c>, comments and blank lines ignored, label values
/// unescaped (\\, \", \n). Lines that are not samples are skipped rather than failing the command.
/// </summary>
public static class PrometheusText
{
    public static IEnumerable<MetricSample> Parse(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (TryParseLine(line, out var sample))
            {
                yield return sample;
            }
        }
    }

    public static bool TryParseLine(string line, out MetricSample sample)
    {
        sample = null!;
        var i = 0;
        while (i < line.Length && IsNameChar(line[i], i == 0))
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            if (!TryParseLabels(line, ref i, labels))
            {
                return false;
            }
        }

        var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is < 1 or > 2 || !TryParseValue(rest[0], out var value))
        {
            return false;
        }

        sample = new MetricSample(name, labels, value);
        return true;
    }

    private static bool TryParseLabels(string line, ref int i, Dictionary<string, string> labels)
    {
        while (true)
        {
            while (i < line.Length && (line[i] == ' ' || line[i] == ','))
            {
                i++;
            }

            if (i < line.Length && line[i] == '}')
            {
                i++;
                return true;
            }

            var start = i;
            while (i < line.Length && IsNameChar(line[i], i == start))
            {
                i++;
            }

            if (i == start || i + 1 >= line.Length || line[i] != '=' || line[i + 1] != '"')
            {
                return false;
            }

            var key = line[start..i];
            i += 2;
            var value = new StringBuilder();
            while (true)
            {
                if (i >= line.Length)
                {
                    return false;
                }

                var c = line[i++];
                if (c == '"')
                {
                    break;
                }

                if (c == '\\' && i < line.Length)
                {
                    var escaped = line[i++];
                    value.Append(escaped == 'n' ? '\n' : escaped);
                }
                else
                {
                    value.Append(c);
                }
            }

            labels[key] = value.ToString();
        }
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "NaN": value = double.NaN; return true;
            case "+Inf": value = double.PositiveInfinity; return true;
            case "-Inf": value = double.NegativeInfinity; return true;
            default: return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static bool IsNameChar(char c, bool first) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' or ':' || (!first && c is >= '0' and <= '9');
}
