using Streaming.Contracts;

namespace Streaming.Destinations;

/// <summary>
/// An immutable, validated routing table. A lane routes by phone number id, then by WABA id, then to
/// the default destination; a destination without a URL for the lane takes no part in that lane's routing.
/// </summary>
public sealed class DestinationTable
{
    private readonly Dictionary<Lane, LaneRoutes> _routes;

    public DestinationTable(IReadOnlyList<Destination> destinations, Destination? @default = null)
    {
        Destinations = destinations;
        Default = @default;
        _routes = new Dictionary<Lane, LaneRoutes> { [Lane.Messages] = new(Lane.Messages, this), [Lane.Statuses] = new(Lane.Statuses, this) };
    }

    public static DestinationTable Empty { get; } = new([]);

    /// <summary>The file's destinations, in file order (without the default).</summary>
    public IReadOnlyList<Destination> Destinations { get; }

    /// <summary>The lane's <c>default</c> destination, or null: unmatched events are dead-lettered as unroutable.</summary>
    public Destination? Default { get; }

    public DestinationTable WithDefault(Destination? @default) => new(Destinations, @default);

    /// <summary>The destination for an event of <paramref name="lane"/>, or null when it is unroutable.</summary>
    public Destination? Route(Lane lane, string? phoneNumberId, string? wabaId)
    {
        var routes = _routes[lane];
        if (phoneNumberId is not null && routes.ByPhone.TryGetValue(phoneNumberId, out var byPhone))
        {
            return byPhone;
        }

        if (wabaId is not null && routes.ByWaba.TryGetValue(wabaId, out var byWaba))
        {
            return byWaba;
        }

        return Default is { } d && d.UrlFor(lane) is not null ? d : null;
    }

    /// <summary>Every destination, default included, that can take events of the lane.</summary>
    public IEnumerable<Destination> For(Lane lane) =>
        Destinations.Append(Default).OfType<Destination>().Where(d => d.UrlFor(lane) is not null);

    private sealed class LaneRoutes
    {
        public LaneRoutes(Lane lane, DestinationTable table)
        {
            foreach (var d in table.Destinations.Where(d => d.UrlFor(lane) is not null))
            {
                foreach (var id in d.PhoneNumberIds)
                {
                    ByPhone[id] = d;
                }

                foreach (var id in d.WabaIds)
                {
                    ByWaba[id] = d;
                }
            }
        }

        public Dictionary<string, Destination> ByPhone { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Destination> ByWaba { get; } = new(StringComparer.Ordinal);
    }
}
