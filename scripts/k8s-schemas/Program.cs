// Writes strict JSON schemas (additionalProperties: false on every object) for the Kubernetes kinds the chart and
// the overlays render, from KubernetesClient's models, which are generated from the Kubernetes OpenAPI spec
// (GeneratedModelVersion.SwaggerVersion). The models carry no `required` lists, so the ones of the OpenAPI spec
// that matter for what we render are restated below.
using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

var output = args.Length > 0 ? args[0] : "kubernetes-strict.json";
Type[] kinds =
[
    typeof(V1Deployment), typeof(V1Service), typeof(V1ConfigMap), typeof(V1Secret), typeof(V1ServiceAccount),
    typeof(V2HorizontalPodAutoscaler), typeof(V1PodDisruptionBudget), typeof(V1Job), typeof(V1Ingress),
    typeof(V1StatefulSet), typeof(V1ObjectMeta),
];

// From the OpenAPI spec's `required` lists (api/openapi-spec/swagger.json of the same Kubernetes version).
var required = new Dictionary<Type, string[]>
{
    [typeof(V1DeploymentSpec)] = ["selector", "template"],
    [typeof(V1StatefulSetSpec)] = ["selector", "template"],
    [typeof(V1JobSpec)] = ["template"],
    [typeof(V1PodSpec)] = ["containers"],
    [typeof(V1Container)] = ["name"],
    [typeof(V1ContainerPort)] = ["containerPort"],
    [typeof(V1EnvVar)] = ["name"],
    [typeof(V1VolumeMount)] = ["name", "mountPath"],
    [typeof(V1Volume)] = ["name"],
    [typeof(V1KeyToPath)] = ["key", "path"],
    [typeof(V1SecretKeySelector)] = ["key"],
    [typeof(V1ConfigMapKeySelector)] = ["key"],
    [typeof(V1ObjectFieldSelector)] = ["fieldPath"],
    [typeof(V1HTTPGetAction)] = ["port"],
    [typeof(V1TCPSocketAction)] = ["port"],
    [typeof(V1ServicePort)] = ["port"],
    [typeof(V1LabelSelectorRequirement)] = ["key", "operator"],
    [typeof(V1TopologySpreadConstraint)] = ["maxSkew", "topologyKey", "whenUnsatisfiable"],
    [typeof(V1PodAffinityTerm)] = ["topologyKey"],
    [typeof(V1WeightedPodAffinityTerm)] = ["weight", "podAffinityTerm"],
    [typeof(V2HorizontalPodAutoscalerSpec)] = ["scaleTargetRef", "maxReplicas"],
    [typeof(V2CrossVersionObjectReference)] = ["kind", "name"],
    [typeof(V2MetricSpec)] = ["type"],
    [typeof(V2ResourceMetricSource)] = ["name", "target"],
    [typeof(V2MetricTarget)] = ["type"],
    [typeof(V2HPAScalingPolicy)] = ["type", "value", "periodSeconds"],
    [typeof(V1HTTPIngressPath)] = ["pathType", "backend"],
    [typeof(V1HTTPIngressRuleValue)] = ["paths"],
    [typeof(V1IngressServiceBackend)] = ["name"],
    [typeof(V1SeccompProfile)] = ["type"],
};

var definitions = new JsonObject();
var pending = new Queue<Type>();
var seen = new HashSet<Type>();

JsonNode Ref(Type t)
{
    if (seen.Add(t))
    {
        pending.Enqueue(t);
    }

    return new JsonObject { ["$ref"] = $"#/definitions/{t.Name}" };
}


JsonNode SchemaOf(Type t)
{
    t = System.Nullable.GetUnderlyingType(t) ?? t;
    if (t == typeof(string) || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(byte[]))
    {
        return new JsonObject { ["type"] = "string" };
    }

    if (t == typeof(int) || t == typeof(long))
    {
        return new JsonObject { ["type"] = "integer" };
    }

    if (t == typeof(double) || t == typeof(float))
    {
        return new JsonObject { ["type"] = "number" };
    }

    if (t == typeof(bool))
    {
        return new JsonObject { ["type"] = "boolean" };
    }

    if (t == typeof(IntOrString))
    {
        return new JsonObject { ["type"] = new JsonArray("integer", "string") };
    }

    if (t == typeof(ResourceQuantity))
    {
        return new JsonObject { ["type"] = new JsonArray("string", "number") };
    }

    if (t == typeof(object) || t == typeof(JsonElement))
    {
        return new JsonObject();
    }

    if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IDictionary<,>))
    {
        return new JsonObject { ["type"] = "object", ["additionalProperties"] = SchemaOf(t.GetGenericArguments()[1]) };
    }

    if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IList<>))
    {
        return new JsonObject { ["type"] = "array", ["items"] = SchemaOf(t.GetGenericArguments()[0]) };
    }

    if (t.Namespace == "k8s.Models" && t.IsClass)
    {
        return Ref(t);
    }

    throw new NotSupportedException(t.FullName);
}

JsonObject Definition(Type t)
{
    var properties = new JsonObject();
    foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
    {
        var name = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
        if (name is null)
        {
            continue;
        }

        properties[name] = SchemaOf(p.PropertyType);
    }

    var entity = t.GetCustomAttribute<KubernetesEntityAttribute>();
    if (entity is not null && properties.ContainsKey("kind"))
    {
        var apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        properties["apiVersion"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(apiVersion) };
        properties["kind"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(entity.Kind) };
    }

    var schema = new JsonObject { ["type"] = "object", ["properties"] = properties, ["additionalProperties"] = false };
    if (required.TryGetValue(t, out var names))
    {
        foreach (var n in names)
        {
            if (!properties.ContainsKey(n))
            {
                throw new InvalidOperationException($"{t.Name} has no property {n}");
            }
        }

        schema["required"] = new JsonArray(names.Select(n => (JsonNode)n).ToArray());
    }

    return schema;
}

var kindsMap = new JsonObject();
foreach (var kind in kinds)
{
    Ref(kind);
    var entity = kind.GetCustomAttribute<KubernetesEntityAttribute>();
    if (entity is not null)
    {
        var apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        kindsMap[$"{apiVersion}/{entity.Kind}"] = kind.Name;
    }
}

while (pending.TryDequeue(out var t))
{
    definitions[t.Name] = Definition(t);
}

var sorted = new JsonObject();
foreach (var (k, v) in definitions.OrderBy(kv => kv.Key, StringComparer.Ordinal))
{
    sorted[k] = v!.DeepClone();
}

var document = new JsonObject
{
    ["$schema"] = "http://json-schema.org/draft-04/schema#",
    ["title"] = $"Kubernetes {GeneratedModelVersionInfo()} (strict), from KubernetesClient {typeof(V1Deployment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0]}",
    ["x-kinds"] = kindsMap,
    ["definitions"] = sorted,
};
File.WriteAllText(output, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine($"{output}: {sorted.Count} definitions, kinds {string.Join(", ", kindsMap.Select(k => k.Key))}");

static string GeneratedModelVersionInfo() =>
    typeof(V1Deployment).Assembly.GetTypes().First(t => t.Name == "GeneratedModelVersion")
        .GetField("SwaggerVersion", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(null)!.ToString()!;
